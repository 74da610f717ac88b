//! Reads the variant names of a serde-derived enum (the list the derive hands to
//! `deserialize_enum`), so tests can tell when a new event variant has no golden fixture.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

/// The variant names of `T`, or an empty list if `T` is not an enum.
pub(crate) fn of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut probe = VariantProbe { variants: &[] };
    // Deserialization always fails here: the probe only records the names it is shown.
    let _ = T::deserialize(&mut probe);
    probe.variants
}

struct VariantProbe {
    variants: &'static [&'static str],
}

#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("variant probe stops here")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<M: fmt::Display>(_message: M) -> Self {
        Stop
    }
}

impl<'de> Deserializer<'de> for &mut VariantProbe {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        self.variants = variants;
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}
