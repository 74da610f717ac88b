//! LEB128 variable-length unsigned integers: the lengths inside pages and the numbers in the
//! activation index rows, which are mostly small (a seq, a duration), so most take 1 to 3 bytes.

/// Appends `value` in 1 to 10 bytes, seven bits at a time, low bits first.
pub(crate) fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a number from the front of `bytes`; returns it and the rest, `None` if it is cut off
/// or longer than a u64.
pub(crate) fn take(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (index, &byte) in bytes.iter().enumerate().take(10) {
        let bits = u64::from(byte & 0x7f);
        let shift = 7 * index as u32;
        if shift == 63 && bits > 1 {
            return None;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Some((value, &bytes[index + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbers_round_trip_in_few_bytes() {
        for value in [
            0,
            1,
            127,
            128,
            300,
            1_000_000,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put(&mut out, value);
            out.push(0xaa);
            assert_eq!(take(&out), Some((value, [0xaa].as_slice())), "{value}");
        }
        let mut small = Vec::new();
        put(&mut small, 1_000_000);
        assert_eq!(small.len(), 3);
    }

    #[test]
    fn cut_off_or_overlong_numbers_are_refused() {
        assert_eq!(take(&[0x80]), None);
        assert_eq!(take(&[]), None);
        assert_eq!(take(&[0xff; 11]), None);
        assert_eq!(
            take(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            None
        );
    }
}
