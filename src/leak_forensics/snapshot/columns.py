"""The columns a snapshot is made of, shared by the model and the file format."""

from __future__ import annotations

from array import array

# Column name -> element kind: "u" unsigned integers (width chosen per file), "s" strings.
COLUMNS: dict[str, str] = {
    "filenames": "s",
    "frame_file": "u",      # per frame: index into filenames
    "frame_line": "u",
    "tb_first": "u",        # per traceback: its most recent frame
    "tb_rest_length": "u",  # per traceback: how many more frames follow in tb_rest
    "tb_rest": "u",         # those frames, traceback after traceback
    "tb_total_nframe": "u",  # frames the traceback had before tracemalloc's limit cut it
    "tb_digest": "u",       # 64-bit digest of the traceback's frames (see traceback_digest)
    "tb_count": "u",        # live blocks allocated with this traceback
    "tb_size": "u",         # their bytes
    "trace_size": "u",      # per block, grouped by traceback in traceback order
    "trace_domain": "u",
    # Derived from the columns above (files without them load): per frame, the blocks
    # allocated there, and the blocks whose traceback holds it anywhere (once per time it
    # holds it). What a diff by line or file reads, without visiting each traceback.
    "frame_size": "u",
    "frame_count": "u",
    "frame_total_size": "u",
    "frame_total_count": "u",
}
DERIVED = {"frame_size": False, "frame_count": False,  # name: cumulative?
           "frame_total_size": True, "frame_total_count": True}


def packed(values: list[int]) -> array[int]:
    """The narrowest unsigned array that holds every value (ints are 28+ bytes each)."""
    top = max(values, default=0)
    for code in "BHIQ":
        if top < 1 << (8 * array(code).itemsize):
            return array(code, values)
    raise ValueError(f"value too large for a snapshot column: {top}")
