// The packed kernels' cache blocking, shared by the x86 paths (internal; not part of the public header).
//
// A block of up to 64 activation rows (at most 96 KB for k = 1536) stays in L2 while every 16-output strip of
// weights (16 × k bytes, at most 24 KB) passes over it from L1, the widest row tile at a time, then narrower tiles
// for the block's last rows. So weights are read once per 64 rows, and activations once per block instead of
// once per strip. TILE(R, C, i, j) runs R rows from row i against C blocks of 8 outputs from output j; R and C are
// compile-time constants at every expansion, so an always-inline tile keeps its accumulators in registers.
#ifndef FLINT_PACKED_BLOCKING_H
#define FLINT_PACKED_BLOCKING_H

#define FLINT_PACKED_TILES_UP_TO_4(TILE, C, i, i1, j)     \
    for (; i + 4 <= i1; i += 4) TILE(4, C, i, j);          \
    if (i + 2 <= i1) { TILE(2, C, i, j); i += 2; }         \
    if (i < i1) TILE(1, C, i, j);

#define FLINT_PACKED_TILES_UP_TO_8(TILE, C, i, i1, j)     \
    for (; i + 8 <= i1; i += 8) TILE(8, C, i, j);          \
    FLINT_PACKED_TILES_UP_TO_4(TILE, C, i, i1, j)

/// Every tile of rows [0, m) × outputs [n0, n1), BLOCK rows at a time, with row tiles of at most WIDEST (4 or 8)
/// rows.
#define FLINT_PACKED_BLOCKS(m, n0, n1, WIDEST, BLOCK, TILE)                                       \
    for (int i0 = 0; i0 < (m); i0 += (BLOCK)) {                                                    \
        const int i1 = (m) - i0 < (BLOCK) ? (m) : i0 + (BLOCK);                                    \
        for (int j = (n0); j < (n1); j += 16) {                                                    \
            int i = i0;                                                                            \
            if ((n1) - j >= 16) { FLINT_PACKED_TILES_UP_TO_##WIDEST(TILE, 2, i, i1, j) }           \
            else { FLINT_PACKED_TILES_UP_TO_##WIDEST(TILE, 1, i, i1, j) }                          \
        }                                                                                          \
    }

#endif
