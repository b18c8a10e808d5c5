"""One package per page: `render` draws the page from the services it is handed (never the whole container).

Views do not import one another; what two of them share lives in app/components.
"""
