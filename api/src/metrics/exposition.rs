//! The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` lines, then one
//! sample per line, `name{label="value",...} value`; histograms as cumulative `_bucket` series
//! with an `le` label (in seconds) ending in `+Inf`, then `_sum` and `_count`.

use std::fmt::Write;
use store::HistogramSnapshot;

/// The `Content-Type` of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
}

impl MetricType {
    fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
        }
    }
}

/// Builds one exposition.
#[derive(Debug, Default)]
pub struct TextExposition {
    out: String,
}

impl TextExposition {
    /// Starts a family: its help text and type.
    pub fn family(&mut self, name: &str, help: &str, kind: MetricType) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample of a counter or gauge.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.out.push_str(name);
        write_labels(&mut self.out, labels);
        let _ = writeln!(self.out, " {value}");
    }

    /// One sample with a fractional value (seconds, say).
    pub fn sample_f64(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        write_labels(&mut self.out, labels);
        let _ = writeln!(self.out, " {value}");
    }

    /// One histogram series: buckets (bounds in seconds), sum (seconds) and count.
    pub fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        histogram: &HistogramSnapshot,
    ) {
        for (bound, count) in histogram.bounds_micros.iter().zip(&histogram.cumulative) {
            let le = seconds(*bound);
            self.bucket(name, labels, &le, *count);
        }
        self.bucket(name, labels, "+Inf", histogram.count);
        let _ = write!(self.out, "{name}_sum");
        write_labels(&mut self.out, labels);
        let _ = writeln!(self.out, " {}", seconds(histogram.sum_micros));
        let _ = write!(self.out, "{name}_count");
        write_labels(&mut self.out, labels);
        let _ = writeln!(self.out, " {}", histogram.count);
    }

    fn bucket(&mut self, name: &str, labels: &[(&str, &str)], le: &str, count: u64) {
        let mut with_le = labels.to_vec();
        with_le.push(("le", le));
        let _ = write!(self.out, "{name}_bucket");
        write_labels(&mut self.out, &with_le);
        let _ = writeln!(self.out, " {count}");
    }

    /// The text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Microseconds as seconds, without exponent or trailing zeros (`0.00005`, `2.5`, `1`).
fn seconds(micros: u64) -> String {
    let whole = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

fn write_labels(out: &mut String, labels: &[(&str, &str)]) {
    if labels.is_empty() {
        return;
    }
    out.push('{');
    for (index, (name, value)) in labels.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_families_samples_and_histograms_in_the_text_format() {
        let mut text = TextExposition::default();
        text.family("calls_total", "Calls.\nAll of them.", MetricType::Counter);
        text.sample("calls_total", &[("fn", "a\"b\\c\nd")], 3);
        text.sample("calls_total", &[], 4);
        text.family("cpu_seconds_total", "CPU.", MetricType::Counter);
        text.sample_f64("cpu_seconds_total", &[], 12.34);
        text.sample_f64("cpu_seconds_total", &[("x", "y")], 3.0);
        text.family("took_seconds", "Time.", MetricType::Histogram);
        text.histogram(
            "took_seconds",
            &[("fn", "x")],
            &HistogramSnapshot {
                bounds_micros: &[50, 2_500_000],
                cumulative: vec![1, 2],
                sum_micros: 1_500_040,
                count: 3,
            },
        );
        assert_eq!(
            text.finish(),
            "# HELP calls_total Calls.\\nAll of them.\n\
             # TYPE calls_total counter\n\
             calls_total{fn=\"a\\\"b\\\\c\\nd\"} 3\n\
             calls_total 4\n\
             # HELP cpu_seconds_total CPU.\n\
             # TYPE cpu_seconds_total counter\n\
             cpu_seconds_total 12.34\n\
             cpu_seconds_total{x=\"y\"} 3\n\
             # HELP took_seconds Time.\n\
             # TYPE took_seconds histogram\n\
             took_seconds_bucket{fn=\"x\",le=\"0.00005\"} 1\n\
             took_seconds_bucket{fn=\"x\",le=\"2.5\"} 2\n\
             took_seconds_bucket{fn=\"x\",le=\"+Inf\"} 3\n\
             took_seconds_sum{fn=\"x\"} 1.50004\n\
             took_seconds_count{fn=\"x\"} 3\n"
        );
    }
}
