//! The built-in public catalog, as OpenWhisk ships one: the package `/whisk.system/utils` with
//! `echo`, `cat`, `sort`, `head`, `split` and `date` (nodejs:20 actions), and the package
//! `/whisk.system/alarms` with the feed actions `alarm`, `interval` and `once`, which Whirl runs
//! itself (`crate::feeds`).

/// The namespace of the catalog.
pub const SYSTEM_NAMESPACE: &str = "whisk.system";
/// The catalog's package.
pub const UTILS_PACKAGE: &str = "utils";

/// `(name, description, code)` of each utility.
pub const UTILS: &[(&str, &str, &str)] = &[
    (
        "echo",
        "Returns the input arguments unchanged.",
        "function main(params) {\n  return params || {};\n}\n",
    ),
    (
        "cat",
        "Concatenates the array 'lines' into the string 'payload' (separated by newlines).",
        "function main(params) {\n  var lines = Array.isArray(params.lines) ? params.lines : [];\n  return { lines: lines, payload: lines.join('\\n') };\n}\n",
    ),
    (
        "sort",
        "Sorts the array 'lines'; returns them with their 'length'.",
        "function main(params) {\n  var lines = Array.isArray(params.lines) ? params.lines.slice() : [];\n  lines.sort();\n  return { length: lines.length, lines: lines };\n}\n",
    ),
    (
        "head",
        "Returns the first 'num' (default 1) entries of the array 'lines'.",
        "function main(params) {\n  var lines = Array.isArray(params.lines) ? params.lines : [];\n  var num = Number.isInteger(params.num) ? params.num : 1;\n  return { lines: lines.slice(0, num), num: num };\n}\n",
    ),
    (
        "split",
        "Splits the string 'payload' at 'separator' (default: line breaks) into the array 'lines'.",
        "function main(params) {\n  var payload = typeof params.payload === 'string' ? params.payload : '';\n  var separator = typeof params.separator === 'string' ? params.separator : /\\r?\\n/;\n  return { lines: payload.split(separator), payload: payload };\n}\n",
    ),
    (
        "date",
        "Returns the current date and time as 'date' (ISO 8601, UTC).",
        "function main() {\n  return { date: new Date().toISOString() };\n}\n",
    ),
];

/// The alarms package.
pub const ALARMS_PACKAGE: &str = "alarms";

/// `(name, description, parameters)` of each alarm feed action.
pub const ALARM_FEEDS: &[(&str, &str, &[&str])] = &[
    (
        "alarm",
        "Fire trigger when alarm occurs (cron, UTC)",
        &["cron", "trigger_payload", "startDate", "stopDate"],
    ),
    (
        "interval",
        "Fire trigger at specified interval (minutes; seconds is a Whirl extension)",
        &[
            "minutes",
            "seconds",
            "trigger_payload",
            "startDate",
            "stopDate",
        ],
    ),
    (
        "once",
        "Fire trigger once when alarm occurs",
        &["date", "trigger_payload"],
    ),
];

/// The package of the NATS subject feed.
pub const NATS_PACKAGE: &str = "nats";

/// `(name, description, parameters)` of the NATS feed action.
pub const NATS_FEEDS: &[(&str, &str, &[&str])] = &[(
    "subject",
    "Fire trigger on every message published on a NATS subject (multi-node Whirl, --nats)",
    &["subject"],
)];

/// The code stored with the alarm feed actions. Whirl answers their invocations itself; this only
/// runs if a container is ever asked to run one, and says so.
pub const ALARM_FEED_CODE: &str = "function main() {\n  return { error: 'alarm feed actions are run by the Whirl platform itself, not in a container' };\n}\n";
