//! The built-in public catalog, as OpenWhisk ships one: the package `/whisk.system/utils` with
//! `echo`, `cat`, `sort`, `head`, `split` and `date` (nodejs:20 actions).

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
