//! Deserializers for fields Meta documents as one JSON type but sends as another
//! (ids and timestamps as numbers or strings). Accepting both keeps one odd field from
//! turning a whole message into "unsupported".

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrNum {
    Str(String),
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl StrOrNum {
    fn into_string(self) -> String {
        match self {
            StrOrNum::Str(s) => s,
            StrOrNum::Int(n) => n.to_string(),
            StrOrNum::UInt(n) => n.to_string(),
            StrOrNum::Float(n) => n.to_string(),
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            StrOrNum::Str(s) => s.trim().parse().ok(),
            StrOrNum::Int(n) => Some(*n as f64),
            StrOrNum::UInt(n) => Some(*n as f64),
            StrOrNum::Float(n) => Some(*n),
        }
    }

    fn as_u64(&self) -> Option<u64> {
        match self {
            StrOrNum::Str(s) => s.trim().parse().ok(),
            StrOrNum::Int(n) => u64::try_from(*n).ok(),
            StrOrNum::UInt(n) => Some(*n),
            StrOrNum::Float(n) if n.fract() == 0.0 && *n >= 0.0 => Some(*n as u64),
            StrOrNum::Float(_) => None,
        }
    }
}

/// A string that may arrive as a JSON number.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    StrOrNum::deserialize(d).map(StrOrNum::into_string)
}

/// An optional string that may arrive as a JSON number (or null).
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<StrOrNum>::deserialize(d)?.map(StrOrNum::into_string))
}

/// An optional number that may arrive as a string; unparseable values become `None`.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<StrOrNum>::deserialize(d)?.and_then(|v| v.as_f64()))
}

/// An optional unsigned integer that may arrive as a string; unparseable values become `None`.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<StrOrNum>::deserialize(d)?.and_then(|v| v.as_u64()))
}

/// A number that may arrive as a string; required.
pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = StrOrNum::deserialize(d)?;
    v.as_f64()
        .ok_or_else(|| serde::de::Error::custom("expected a number"))
}
