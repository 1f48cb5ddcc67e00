//! How the kinds' specs are read: a JSON object, field by name, by one shared reader.
//!
//! Rationale: serde's derive writes a reader of its own for every struct: a matcher of its
//! field names, a slot per field, a check per missing field and the clean-up of every slot
//! on every way out, and (through `serde_json::Value`'s deserializer) a second reader of the
//! same struct from a list, by position (`"service": ["exponential", 0.1]` was a service).
//! In the page's wasm those readers were the largest function of every binary. Here the
//! work is done once, in [`Reader`], and a spec says only its fields ([`by_name!`]): a
//! required field, one that defaults, or one with a default of its own. A struct is read
//! from an object alone (a list where a group of fields belongs is refused), and every
//! message is serde's own, word for word, and the same one the derive gave: the first
//! problem in the object's order wins (a misfit value or a name that is no field), then the
//! first missing field in the spec's order (see docs/performance.md).

use serde::de::Error as _;
use serde::Deserialize;
use serde_json::{Error, Map, Value};

/// One object being read as a spec: what it holds and the first problem found.
pub(crate) struct Reader<'a> {
    object: &'a Map<String, Value>,
    /// The first problem in the object's order: its position there, and the message.
    first: Option<(usize, Error)>,
    /// The first required field found missing, in the spec's order.
    missing: Option<&'static str>,
}

impl<'a> Reader<'a> {
    /// Starts reading `value` as the struct `expecting` names ("struct Service") with these
    /// fields; anything but an object is refused as serde words it.
    pub(crate) fn new(
        value: &'a Value,
        expecting: &'static str,
        fields: &'static [&'static str],
    ) -> Result<Reader<'a>, Error> {
        let Value::Object(object) = value else {
            let got = crate::scenario::unexpected_value(value);
            return Err(Error::invalid_type(got, &expecting));
        };
        let first = object
            .keys()
            .enumerate()
            .find(|(_, name)| !fields.contains(&name.as_str()))
            .map(|(at, name)| (at, Error::unknown_field(name, fields)));
        Ok(Reader {
            object,
            first,
            missing: None,
        })
    }

    /// The field's value and its position in the object, when present.
    fn entry(&self, name: &str) -> Option<(usize, &'a Value)> {
        self.object
            .iter()
            .enumerate()
            .find(|(_, (key, _))| key.as_str() == name)
            .map(|(at, (_, value))| (at, value))
    }

    /// Keeps a problem if it comes before the first one found so far.
    fn fail(&mut self, at: usize, error: Error) {
        if self.first.as_ref().is_none_or(|(first, _)| at < *first) {
            self.first = Some((at, error));
        }
    }

    /// Reads a present field; `None` when absent. A value that does not fit is a problem
    /// kept for [`Reader::finish`] (and the field reads as its type's default meanwhile).
    fn read<T: Deserialize<'a> + Default>(&mut self, name: &str) -> Option<T> {
        let (at, value) = self.entry(name)?;
        Some(T::deserialize(value).unwrap_or_else(|error| {
            self.fail(at, error);
            T::default()
        }))
    }

    /// A field the spec cannot do without.
    #[inline(never)]
    pub(crate) fn required<T: Deserialize<'a> + Default>(&mut self, name: &'static str) -> T {
        self.read(name).unwrap_or_else(|| {
            self.missing.get_or_insert(name);
            T::default()
        })
    }

    /// A field that is its type's default when absent.
    #[inline(never)]
    pub(crate) fn default<T: Deserialize<'a> + Default>(&mut self, name: &str) -> T {
        self.read(name).unwrap_or_default()
    }

    /// A field with a default of its own when absent.
    #[inline(never)]
    pub(crate) fn or<T: Deserialize<'a> + Default>(&mut self, name: &str, absent: fn() -> T) -> T {
        self.read(name).unwrap_or_else(absent)
    }

    /// The first problem in the object's order, else the first missing field.
    pub(crate) fn finish(self) -> Result<(), Error> {
        match (self.first, self.missing) {
            (Some((_, error)), _) => Err(error),
            (None, Some(name)) => Err(Error::missing_field(name)),
            (None, None) => Ok(()),
        }
    }
}

/// A spec's reader and its `Deserialize`: each field in the struct's order, as
/// `name: required`, `name: default` or `name: or(function)` (see [`Reader`]).
macro_rules! by_name {
    ($Spec:ident { $($field:ident : $how:ident $(($absent:expr))?),* $(,)? }) => {
        impl $Spec {
            /// Reads the spec from a JSON object, field by name (`crate::fields`).
            pub(crate) fn read(value: &serde_json::Value) -> Result<$Spec, serde_json::Error> {
                const FIELDS: &[&str] = &[$(stringify!($field)),*];
                let mut r = crate::fields::Reader::new(
                    value,
                    concat!("struct ", stringify!($Spec)),
                    FIELDS,
                )?;
                let spec = $Spec {
                    $($field: r.$how(stringify!($field) $(, $absent)?),)*
                };
                r.finish().map(|()| spec)
            }
        }

        impl<'de> serde::Deserialize<'de> for $Spec {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$Spec, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
                $Spec::read(&value).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use by_name;

/// The index of the variant a JSON value names in `names`, as `serde_json` reads a unit
/// variant: its name as a string, or an object whose one key is the name (and whose value is
/// `null`); every refusal in serde's words.
pub(crate) fn variant(value: &Value, names: &'static [&'static str]) -> Result<usize, Error> {
    use serde::de::Unexpected;
    let unexpected = crate::scenario::unexpected_value;
    let (name, content) = match value {
        Value::String(name) => (name, None),
        Value::Object(object) => match object.iter().next() {
            Some((name, content)) if object.len() == 1 => (name, Some(content)),
            _ => {
                return Err(Error::invalid_value(
                    Unexpected::Map,
                    &"map with a single key",
                ))
            }
        },
        other => return Err(Error::invalid_type(unexpected(other), &"string or map")),
    };
    let index = names
        .iter()
        .position(|known| known == name)
        .ok_or_else(|| Error::unknown_variant(name, names))?;
    match content {
        None | Some(Value::Null) => Ok(index),
        Some(other) => Err(Error::invalid_type(unexpected(other), &"unit")),
    }
}

/// A small enum of names (`Dist`, `OnFull`, …) written and read by its variants' names:
/// `Serialize` as the name, `Deserialize` through [`variant`], one shared reader.
macro_rules! by_variant {
    ($Enum:ident { $($Variant:ident = $name:literal),* $(,)? }) => {
        impl serde::Serialize for $Enum {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(match self {
                    $($Enum::$Variant => $name,)*
                })
            }
        }

        impl<'de> serde::Deserialize<'de> for $Enum {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$Enum, D::Error> {
                const NAMES: &[&str] = &[$($name),*];
                const ALL: &[$Enum] = &[$($Enum::$Variant),*];
                let value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
                crate::fields::variant(&value, NAMES)
                    .map(|index| ALL[index])
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use by_variant;

#[cfg(test)]
mod tests {
    use crate::blocks::breaker::BreakerSpec;
    use crate::blocks::retry::Budget;
    use crate::blocks::server::ServerSpec;
    use serde_json::{json, Value};

    fn server(doc: Value) -> Result<ServerSpec, String> {
        ServerSpec::read(&doc).map_err(|e| e.to_string())
    }

    #[test]
    fn a_spec_reads_its_fields_by_name_with_their_defaults() {
        let spec = server(json!({"id": "api", "workers": 4, "service": {"mean_s": 0.1}})).unwrap();
        assert_eq!((spec.id.as_str(), spec.workers), ("api", 4));
        assert_eq!(spec.service.mean_s, 0.1);
        assert_eq!(
            (spec.queue_capacity, spec.error_rate, spec.to),
            (None, 0.0, None)
        );
        // A default of the field's own (the breaker's), not its type's zero.
        let breaker = BreakerSpec::read(&json!({"id": "b", "to": "api"})).unwrap();
        assert!(breaker.failure_threshold > 0.0 && breaker.window_s > 0.0);
        assert!(breaker.min_calls > 0 && breaker.half_open_probes > 0);
    }

    #[test]
    fn the_messages_are_serdes_own() {
        let base = || json!({"id": "api", "workers": 4, "service": {"mean_s": 0.1}});
        let with = |key: &str, value: Value| {
            let mut doc = base();
            doc[key] = value;
            server(doc).unwrap_err()
        };
        assert_eq!(
            with("workers", json!(1.5)),
            "invalid type: floating point `1.5`, expected u32"
        );
        assert_eq!(
            with("service", json!(["exponential", 0.1])),
            "invalid type: sequence, expected struct Service"
        );
        assert_eq!(
            with("budget", json!(1)),
            "unknown field `budget`, expected one of `id`, `workers`, `queue_capacity`, \
             `on_full`, `discipline`, `codel`, `service`, `error_rate`, `slowdown`, \
             `drop_expired`, `max_queue_wait_s`, `shed_cost_s`, `autoscale`, `to`, \
             `link_latency_s`, `ui`"
        );
        assert_eq!(
            Budget::read(&json!({"ratio": 0.1}))
                .unwrap_err()
                .to_string(),
            "missing field `max_tokens`"
        );
        assert_eq!(
            Budget::read(&json!("x")).unwrap_err().to_string(),
            "invalid type: string \"x\", expected struct Budget"
        );
    }

    #[test]
    fn the_first_problem_in_the_objects_order_wins_then_the_first_missing_field() {
        // Two problems: the one met first in the object (its keys in order) is reported.
        let doc = json!({"aaa": 1, "id": "api", "workers": "x", "service": {"mean_s": 0.1}});
        assert!(server(doc).unwrap_err().starts_with("unknown field `aaa`"));
        let doc = json!({"id": "api", "workers": "x", "zzz": 1, "service": {"mean_s": 0.1}});
        assert_eq!(
            server(doc).unwrap_err(),
            "invalid type: string \"x\", expected u32"
        );
        // A misfit value comes before a missing field; missing fields in the spec's order.
        let doc = json!({"id": "api", "service": {"mean_s": "slow"}});
        assert_eq!(
            server(doc).unwrap_err(),
            "invalid type: string \"slow\", expected f64"
        );
        assert_eq!(
            server(json!({"id": "api"})).unwrap_err(),
            "missing field `workers`"
        );
        assert_eq!(server(json!({})).unwrap_err(), "missing field `id`");
    }

    #[test]
    fn an_enum_reads_and_writes_its_variants_by_name_as_serde_json_does() {
        use crate::blocks::server::Dist;
        let read = |v: Value| serde_json::from_value::<Dist>(v).map_err(|e| e.to_string());
        assert_eq!(read(json!("lognormal")), Ok(Dist::Lognormal));
        assert_eq!(
            read(json!({"deterministic": null})),
            Ok(Dist::Deterministic)
        );
        assert_eq!(
            read(json!("gamma")),
            Err(
                "unknown variant `gamma`, expected one of `exponential`, `deterministic`, \
                 `lognormal`"
                    .into()
            )
        );
        assert_eq!(
            read(json!(1)),
            Err("invalid type: integer `1`, expected string or map".into())
        );
        assert_eq!(
            read(json!({})),
            Err("invalid value: map, expected map with a single key".into())
        );
        assert_eq!(
            read(json!({"lognormal": 2})),
            Err("invalid type: integer `2`, expected unit".into())
        );
        assert_eq!(
            serde_json::to_string(&Dist::Deterministic).unwrap(),
            "\"deterministic\""
        );
    }
}
