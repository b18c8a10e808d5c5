"""A .docx (a zip archive) checked before python-docx opens it: that it is a zip, and what it unpacks to.

python-docx reads every part it needs whole into memory, so a file of a few hundred kB can hold a part that
inflates to gigabytes (a zip bomb: one of 340 kB was inflated to 300 MB before lxml refused it with "Buffer size
limit exceeded"). `check_archive` refuses such a file quickly and without inflating it into memory.
"""

from __future__ import annotations

import io
import zipfile

from workbench.rag.errors import BadDocument

# What an archive may unpack to, in multiples of the file size limit (rag.max_file_mb): 200 MB by default, far
# above the text and images of a real document, far below what would take a worker's memory.
UNZIP_FACTOR = 10
PIECE = 1_048_576  # bytes inflated at a time while counting


def check_archive(source: str, data: bytes, max_bytes: int) -> None:
    """Raise BadDocument when `data` is not a zip archive, is damaged, or unpacks to over UNZIP_FACTOR x max_bytes.

    The sizes the archive declares are checked first, before anything is inflated. They are the archive's own
    claim, so each member is then inflated once, a piece at a time and only counted. That pass is what keeps a
    lying archive out of memory: `ZipFile.read` (python-docx's way in) inflates a member's whole compressed data
    before cutting it to the declared size, so a member declaring 4 kB and holding 300 MB cost 300 MB there. Read
    a piece at a time, zipfile stops at the declared size and fails the CRC (refused here as a damaged file).
    """
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise BadDocument(
            source,
            "not a readable Word document: a .docx file is a zip archive and this one is not; is it another kind "
            "of file renamed .docx, or an old .doc? (Word: Save as > Word Document)",
        )
    limit = UNZIP_FACTOR * max_bytes
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            declared = sum(member.file_size for member in members)
            if declared > limit:
                raise BadDocument(source, _too_big(f"unpacks to {_mb(declared)}", limit))
            inflated = 0
            for member in members:
                with archive.open(member) as stream:
                    while piece := stream.read(PIECE):
                        inflated += len(piece)
                        if inflated > limit:
                            raise BadDocument(source, _too_big("unpacks to more than it declares", limit))
    except BadDocument:
        raise
    except Exception as exc:  # zipfile raises BadZipFile, zlib.error, EOFError, NotImplementedError ... on damage
        raise BadDocument(source, f"not a readable Word document ({type(exc).__name__}: {exc})") from exc


def _too_big(what: str, limit: int) -> str:
    return (
        f"{what}, over the {_mb(limit)} a Word document may unpack to ({UNZIP_FACTOR} x rag.max_file_mb): "
        "a zip bomb, or a document to split into smaller ones"
    )


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"
