"""Retrieval-augmented generation: embeddings, document loading, ingestion into Chroma, retrieval.

Importing this package is cheap: the modules that pull in llama_index, chromadb or onnxruntime
(`embeddings`, `vector_store`, `chunking`, `ingestion`, `retrieval`) are imported only when used, and
`RagEngine` creates the Chroma client and loads the embedding model on first use.
"""
