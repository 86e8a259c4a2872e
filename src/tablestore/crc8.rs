//! CRC-8 as PlainBuffer uses it: polynomial 0x07, init 0, no reflection, no
//! final XOR (CRC-8/SMBUS). Multi-byte integers are fed little-endian.
//!
//! Reference: `src/tablestore/PROTOCOL.md` §3.4. Check value: CRC("123456789") = 0xF4.

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

/// Feeds one byte.
#[inline]
pub fn update_u8(crc: u8, byte: u8) -> u8 {
    TABLE[(crc ^ byte) as usize]
}

/// Feeds a byte slice.
#[inline]
pub fn update_bytes(mut crc: u8, bytes: &[u8]) -> u8 {
    for &b in bytes {
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
