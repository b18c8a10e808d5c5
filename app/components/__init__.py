"""What several views share: Markdown escaping, formatting, notices, widget state, charts' palette, run status, links.

Nothing here knows a page: a component receives the services or values it works on, never the container.
"""
