//! CRC-8 as PlainBuffer uses it: polynomial 0x07, init 0, no reflection, no
//! final XOR (CRC-8/SMBUS). Multi-byte integers are fed little-endian.
//!
//! Reference: `src/tablestore/PROTOCOL.md` §3.4. Check value: CRC("123456789") = 0xF4.
//!
//! Long inputs (string and binary values) go 8 bytes per step through
//! eight tables ("slicing-by-8"): the CRC is linear, so 8 bytes fold into
//! one lookup each, of that byte followed by as many zero bytes as follow
//! it in the step.

/// Lookup table, built at compile time from the polynomial.
const TABLE: [u8; 256] = build_table();

const fn build_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut x = i as u8;
        let mut round = 0;
        while round < 8 {
            x = if x & 0x80 != 0 {
                (x << 1) ^ 0x07
            } else {
                x << 1
            };
            round += 1;
        }
        table[i] = x;
        i += 1;
    }
    table
}

/// `SLICES[k][x]`: the CRC of byte `x` followed by `k` zero bytes.
const SLICES: [[u8; 256]; 8] = build_slices();

const fn build_slices() -> [[u8; 256]; 8] {
    let mut slices = [[0u8; 256]; 8];
    slices[0] = TABLE;
    let mut k = 1;
    while k < 8 {
        let mut x = 0;
        while x < 256 {
            slices[k][x] = TABLE[slices[k - 1][x] as usize];
            x += 1;
        }
        k += 1;
    }
    slices
}

/// Feeds one byte.
#[inline]
pub fn update_u8(crc: u8, byte: u8) -> u8 {
    TABLE[(crc ^ byte) as usize]
}

/// Feeds a byte slice.
#[inline]
pub fn update_bytes(mut crc: u8, bytes: &[u8]) -> u8 {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        crc = SLICES[7][(crc ^ c[0]) as usize]
            ^ SLICES[6][c[1] as usize]
            ^ SLICES[5][c[2] as usize]
            ^ SLICES[4][c[3] as usize]
            ^ SLICES[3][c[4] as usize]
            ^ SLICES[2][c[5] as usize]
            ^ SLICES[1][c[6] as usize]
            ^ SLICES[0][c[7] as usize];
    }
    for &b in chunks.remainder() {
        crc = TABLE[(crc ^ b) as usize];
    }
    crc
}

/// Feeds an int32 as its 4 little-endian bytes.
#[inline]
pub fn update_u32(crc: u8, value: u32) -> u8 {
    update_bytes(crc, &value.to_le_bytes())
}

/// Feeds an int64 as its 8 little-endian bytes.
#[inline]
pub fn update_u64(crc: u8, value: u64) -> u8 {
    update_bytes(crc, &value.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_matches_crc8_smbus() {
        assert_eq!(update_bytes(0, b"123456789"), 0xF4);
    }

    #[test]
    fn eight_bytes_at_a_time_equal_one_at_a_time() {
        let bytes: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 251) as u8).collect();
        for len in 0..bytes.len() {
            for seed in [0u8, 0x5e, 0xff] {
                let one_by_one = bytes[..len]
                    .iter()
                    .fold(seed, |crc, &b| TABLE[(crc ^ b) as usize]);
                assert_eq!(update_bytes(seed, &bytes[..len]), one_by_one, "len {len}");
            }
        }
    }

    #[test]
    fn table_starts_like_the_spec() {
        assert_eq!(
            &TABLE[..8],
            &[0x00, 0x07, 0x0e, 0x09, 0x1c, 0x1b, 0x12, 0x15]
        );
    }

    #[test]
    fn spec_cell_checksum_for_string_pk() {
        // §3.6: crc8("s") = 0x5e, then 0x03, then len 2 LE, then "ab" -> 0x4d.
        let crc = update_bytes(0, b"s");
        assert_eq!(crc, 0x5e);
        let crc = update_u8(crc, 0x03);
        let crc = update_u32(crc, 2);
        assert_eq!(update_bytes(crc, b"ab"), 0x4d);
    }
}
