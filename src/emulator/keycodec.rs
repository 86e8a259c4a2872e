//! Order-preserving byte keys for primary keys, so the ordered store sorts
//! rows the way Tablestore does: column by column, integers numerically,
//! strings and binaries bytewise (`PROTOCOL.md` §7).
//!
//! Layout: `table id (u64 BE)` then per column:
//! * INTEGER: 8 bytes big-endian of `v XOR 1<<63` (sign flip);
//! * STRING/BINARY: the bytes with `00` escaped as `00 FF`, then `00 00`.
//!
//! A range bound with INF_MIN at column *i* maps to the encoded prefix of
//! the columns before *i* (below every extension); INF_MAX maps to that
//! prefix's successor (above every extension). Neither can equal a real
//! key, so inclusive/exclusive only matters for fully specified bounds.

use crate::tablestore::plainbuffer::{PkRef, PkValue};

pub fn table_prefix(table_id: u64) -> Vec<u8> {
    table_id.to_be_bytes().to_vec()
}

/// The smallest byte string greater than every string starting with
/// `prefix`; `None` if there is none (all 0xFF).
pub fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut s = prefix.to_vec();
    while let Some(last) = s.pop() {
        if last != 0xFF {
            s.push(last + 1);
            return Some(s);
        }
    }
    None
}

fn push_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    if !bytes.contains(&0) {
        out.extend_from_slice(bytes);
    } else {
        for &b in bytes {
            out.push(b);
            if b == 0 {
                out.push(0xFF);
            }
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Where a (possibly INF-bounded) key sits in the key space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// A real, fully specified key.
    Exact(Vec<u8>),
    /// Between real keys (from INF_MIN/INF_MAX); `None` = past the end.
    Between(Option<Vec<u8>>),
}

/// Encodes `pk` under `table_id`. Values must already match the schema.
pub fn position(table_id: u64, pk: &[(String, PkValue)]) -> Position {
    position_of(table_id, pk.iter().map(|(_, v)| PkRef::from(v)))
}

/// [`position`] of primary-key values in column order.
fn position_of<'a>(table_id: u64, values: impl Iterator<Item = PkRef<'a>>) -> Position {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&table_id.to_be_bytes());
    for v in values {
        match v {
            PkRef::Integer(i) => out.extend_from_slice(&((i as u64) ^ (1 << 63)).to_be_bytes()),
            PkRef::String(s) => push_escaped(&mut out, s.as_bytes()),
            PkRef::Binary(b) => push_escaped(&mut out, b),
            PkRef::InfMin => return Position::Between(Some(out)),
            PkRef::InfMax => return Position::Between(successor(&out)),
            PkRef::AutoIncrement => {
                unreachable!("auto-increment values are assigned before encoding")
            }
        }
    }
    Position::Exact(out)
}

fn exact(position: Position) -> Vec<u8> {
    match position {
        Position::Exact(k) => k,
        Position::Between(_) => unreachable!("caller validated that the key has no INF values"),
    }
}

/// The key of a fully specified primary key.
pub fn exact_key(table_id: u64, pk: &[(String, PkValue)]) -> Vec<u8> {
    exact(position(table_id, pk))
}

/// [`exact_key`] of borrowed values in column order (a primary key still
/// in its request bytes, a series key).
pub fn exact_key_of<'a>(table_id: u64, values: impl IntoIterator<Item = PkRef<'a>>) -> Vec<u8> {
    exact(position_of(table_id, values.into_iter()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(vals: Vec<PkValue>) -> Vec<u8> {
        exact_key(
            7,
            &vals
                .into_iter()
                .map(|v| (String::new(), v))
                .collect::<Vec<_>>(),
        )
    }

    proptest! {
        #[test]
        fn integers_sort_numerically(a: i64, b: i64) {
            prop_assert_eq!(a.cmp(&b), key(vec![PkValue::Integer(a)]).cmp(&key(vec![PkValue::Integer(b)])));
        }

        #[test]
        fn binaries_sort_bytewise_column_by_column(a: Vec<u8>, b: Vec<u8>, x: i64, y: i64) {
            let ka = key(vec![PkValue::Binary(a.clone()), PkValue::Integer(x)]);
            let kb = key(vec![PkValue::Binary(b.clone()), PkValue::Integer(y)]);
            prop_assert_eq!((a, x).cmp(&(b, y)), ka.cmp(&kb));
        }

        #[test]
        fn strings_sort_bytewise(a: String, b: String) {
            prop_assert_eq!(a.as_bytes().cmp(b.as_bytes()),
                key(vec![PkValue::String(a.clone())]).cmp(&key(vec![PkValue::String(b.clone())])));
        }
    }

    #[test]
    fn inf_bounds_enclose_every_extension() {
        let pk = |v: PkValue| {
            vec![
                ("a".to_string(), PkValue::String("k".into())),
                ("b".to_string(), v),
            ]
        };
        let low = match position(1, &pk(PkValue::InfMin)) {
            Position::Between(Some(k)) => k,
            p => panic!("{p:?}"),
        };
        let high = match position(1, &pk(PkValue::InfMax)) {
            Position::Between(Some(k)) => k,
            p => panic!("{p:?}"),
        };
        for v in [i64::MIN, -1, 0, 1, i64::MAX] {
            let k = exact_key(1, &pk(PkValue::Integer(v)));
            assert!(low < k && k < high);
        }
        assert!(
            high < exact_key(
                1,
                &[
                    ("a".into(), PkValue::String("k\0".into())),
                    ("b".into(), PkValue::Integer(i64::MIN))
                ]
            )
        );
    }
}
