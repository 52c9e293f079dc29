// Pure. Parses the Prometheus text exposition format (0.0.4, plus the OpenMetrics spellings engines emit) into
// samples; performs no I/O and never throws on a bad line (it reports the line instead). HELP lines and comments
// are skipped; TYPE lines are only checked.
//
// Grammar (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format):
//   line    = "# HELP" name docstring | "# TYPE" name type | "#" comment | sample | empty
//   sample  = name [ "{" label "=" '"' value '"' { "," label "=" '"' value '"' } [ "," ] "}" ] float [ timestamp ]
//   escapes: label values \\ \" \n; float: decimal, +Inf, -Inf, NaN; timestamp: int64 ms.
// Prometheus 3 / OpenMetrics 1.1 also allow quoted names inside the braces ({"my.metric", a="b"}); `# EOF` ends
// an OpenMetrics exposition and exemplars follow a sample after " # ".

export interface Sample {
  /** The sample's own name, with any _total, _created, _bucket, _sum or _count suffix. */
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the exposition gives one. */
  timestampMs?: number;
}

export interface ParseProblem {
  line: number;
  text: string;
  message: string;
}

export interface Exposition {
  /** Every sample in exposition order. */
  samples: Sample[];
  problems: ParseProblem[];
}

const METRIC_TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'unknown', 'info', 'stateset', 'gaugehistogram']);
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a float as the text format writes it: decimal notation, +Inf, -Inf or NaN (case-insensitive). */
export function parseFloatToken(token: string): number | undefined {
  const lower = token.toLowerCase();
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan') return NaN;
  return DECIMAL.test(token) ? Number(token) : undefined;
}

/** Reads a double-quoted string starting at text[start] === '"'; returns the value and the index after the quote. */
function readQuoted(text: string, start: number): { value: string; end: number } | string {
  let out = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return { value: out, end: i + 1 };
    if (c === '\\') {
      const next = text[i + 1];
      if (next === 'n') out += '\n';
      else if (next === '\\' || next === '"') out += next;
      else return `invalid escape \\${next ?? ''} in a quoted string`;
      i++;
      continue;
    }
    if (c === '\n') return 'newline inside a quoted string';
    out += c;
  }
  return 'unterminated quoted string';
}

function skipSpaces(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i;
}

/** Parses one sample line; returns the sample or a message saying what is wrong. */
function parseSampleLine(line: string): Sample | string {
  let i = 0;
  let name = '';
  const nameMatch = NAME.exec(line);
  if (nameMatch) {
    name = nameMatch[0];
    i = name.length;
  } else if (line[0] !== '{') {
    return 'a sample must start with a metric name';
  }
  const labels: Record<string, string> = {};
  if (line[skipSpaces(line, i)] === '{') {
    i = skipSpaces(line, i) + 1;
    for (;;) {
      i = skipSpaces(line, i);
      if (line[i] === '}') { i++; break; }
      let key: string;
      if (line[i] === '"') {
        const quoted = readQuoted(line, i);
        if (typeof quoted === 'string') return quoted;
        i = skipSpaces(line, quoted.end);
        if (line[i] !== '=' && !name) {
          // A quoted metric name: {"my.metric", a="b"}.
          name = quoted.value;
          if (line[i] === ',') i++;
          continue;
        }
        key = quoted.value;
      } else {
        const keyMatch = LABEL_NAME.exec(line.slice(i));
        if (!keyMatch) return `invalid label name at column ${i + 1}`;
        key = keyMatch[0];
        i = skipSpaces(line, i + key.length);
      }
      if (line[i] !== '=') return `expected = after label ${key}`;
      i = skipSpaces(line, i + 1);
      if (line[i] !== '"') return `the value of label ${key} must be double-quoted`;
      const value = readQuoted(line, i);
      if (typeof value === 'string') return `label ${key}: ${value}`;
      if (Object.hasOwn(labels, key)) return `label ${key} appears twice`;
      labels[key] = value.value;
      i = skipSpaces(line, value.end);
      if (line[i] === ',') { i++; continue; }
      if (line[i] === '}') { i++; break; }
      return `expected , or } after the value of label ${key}`;
    }
  }
  if (!name) return 'a sample needs a metric name';
  if (i < line.length && line[i] !== ' ' && line[i] !== '\t') return `unexpected character ${JSON.stringify(line[i])} after the metric name`;
  // Drop an OpenMetrics exemplar (" # {trace_id="..."} 1.0") before splitting value and timestamp.
  let rest = line.slice(i);
  const exemplar = rest.indexOf(' # ');
  if (exemplar >= 0) rest = rest.slice(0, exemplar);
  const fields = rest.trim().split(/[ \t]+/).filter((f) => f.length > 0);
  if (fields.length === 0) return 'a sample needs a value';
  if (fields.length > 2) return 'too many fields after the value (expected an optional timestamp only)';
  const value = parseFloatToken(fields[0] ?? '');
  if (value === undefined) return `invalid value ${JSON.stringify(fields[0])}`;
  const sample: Sample = { name, labels, value };
  if (fields[1] !== undefined) {
    const ts = fields[1];
    // The text format's timestamps are integer milliseconds; OpenMetrics writes seconds with a fraction.
    if (/^-?\d+$/.test(ts)) sample.timestampMs = Number(ts);
    else if (DECIMAL.test(ts)) sample.timestampMs = Number(ts) * 1000;
    else return `invalid timestamp ${JSON.stringify(ts)}`;
  }
  return sample;
}

/** Parses an exposition. Bad lines land in `problems`; every good line is kept. */
export function parsePrometheusText(text: string): Exposition {
  const samples: Sample[] = [];
  const problems: ParseProblem[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] ?? '').replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      const m = /^#[ \t]+TYPE[ \t]+\S+(?:[ \t]+(.*))?$/.exec(trimmed);
      const type = (m?.[1] ?? '').trim();
      if (m && !METRIC_TYPES.has(type.toLowerCase())) problems.push({ line: n + 1, text: line, message: `unknown metric type ${JSON.stringify(type)}` });
      continue; // HELP, a comment, or # EOF
    }
    const parsed = parseSampleLine(trimmed);
    if (typeof parsed === 'string') {
      problems.push({ line: n + 1, text: line, message: parsed });
      continue;
    }
    samples.push(parsed);
  }
  return { samples, problems };
}
