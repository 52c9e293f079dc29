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
  const nameMatch = NAME.exec(line);
  if (!nameMatch && line[0] !== '{') return 'a sample must start with a metric name';
  let name = nameMatch?.[0] ?? '';
  let labels: Record<string, string> = {};
  let i = name.length;
  const brace = skipSpaces(line, i);
  if (line[brace] === '{') {
    const set = parseLabelSet(line, brace, name);
    if (typeof set === 'string') return set;
    ({ name, labels, end: i } = set);
  }
  if (!name) return 'a sample needs a metric name';
  if (i < line.length && line[i] !== ' ' && line[i] !== '\t') return `unexpected character ${JSON.stringify(line[i])} after the metric name`;
  const value = parseValueAndTimestamp(line.slice(i));
  if (typeof value === 'string') return value;
  return { name, labels, ...value };
}

/** The labels between a sample's braces, the metric name (possibly quoted inside them), and the index after `}`. */
interface LabelSet {
  name: string;
  labels: Record<string, string>;
  end: number;
}

/** Parses `{label="value", ...}` starting at line[open] === '{'; `name` is the metric name before the brace, if any. */
function parseLabelSet(line: string, open: number, name: string): LabelSet | string {
  const set: LabelSet = { name, labels: {}, end: open + 1 };
  for (;;) {
    const i = skipSpaces(line, set.end);
    if (line[i] === '}') return { ...set, end: i + 1 };
    const key = readLabelKey(line, i);
    if (typeof key === 'string') return key;
    if (key.quoted && line[key.end] !== '=' && !set.name) {
      // A quoted metric name: {"my.metric", a="b"}.
      set.name = key.value;
      set.end = line[key.end] === ',' ? key.end + 1 : key.end;
      continue;
    }
    const after = readLabelValue(line, key, set.labels);
    if (typeof after === 'string') return after;
    if (line[after] === ',') { set.end = after + 1; continue; }
    if (line[after] === '}') return { ...set, end: after + 1 };
    return `expected , or } after the value of label ${key.value}`;
  }
}

/** A label name (or a quoted metric name) and the index after it and the spaces that follow. */
interface LabelKey {
  value: string;
  quoted: boolean;
  end: number;
}

function readLabelKey(line: string, i: number): LabelKey | string {
  if (line[i] === '"') {
    const quoted = readQuoted(line, i);
    if (typeof quoted === 'string') return quoted;
    return { value: quoted.value, quoted: true, end: skipSpaces(line, quoted.end) };
  }
  const keyMatch = LABEL_NAME.exec(line.slice(i));
  if (!keyMatch) return `invalid label name at column ${i + 1}`;
  return { value: keyMatch[0], quoted: false, end: skipSpaces(line, i + keyMatch[0].length) };
}

/** Reads `= "value"` after a label name into `labels`; returns the index after the value and the spaces that follow. */
function readLabelValue(line: string, key: LabelKey, labels: Record<string, string>): number | string {
  if (line[key.end] !== '=') return `expected = after label ${key.value}`;
  const i = skipSpaces(line, key.end + 1);
  if (line[i] !== '"') return `the value of label ${key.value} must be double-quoted`;
  const value = readQuoted(line, i);
  if (typeof value === 'string') return `label ${key.value}: ${value}`;
  if (Object.hasOwn(labels, key.value)) return `label ${key.value} appears twice`;
  labels[key.value] = value.value;
  return skipSpaces(line, value.end);
}

/** Parses what follows the name and labels: the value and an optional timestamp. */
function parseValueAndTimestamp(text: string): Pick<Sample, 'value' | 'timestampMs'> | string {
  // Drop an OpenMetrics exemplar (" # {trace_id="..."} 1.0") before splitting value and timestamp.
  const exemplar = text.indexOf(' # ');
  const rest = exemplar >= 0 ? text.slice(0, exemplar) : text;
  const fields = rest.trim().split(/[ \t]+/).filter((f) => f.length > 0);
  if (fields.length === 0) return 'a sample needs a value';
  if (fields.length > 2) return 'too many fields after the value (expected an optional timestamp only)';
  const value = parseFloatToken(fields[0] ?? '');
  if (value === undefined) return `invalid value ${JSON.stringify(fields[0])}`;
  const ts = fields[1];
  if (ts === undefined) return { value };
  const timestampMs = parseTimestamp(ts);
  if (timestampMs === undefined) return `invalid timestamp ${JSON.stringify(ts)}`;
  return { value, timestampMs };
}

function parseTimestamp(ts: string): number | undefined {
  // The text format's timestamps are integer milliseconds; OpenMetrics writes seconds with a fraction.
  if (/^-?\d+$/.test(ts)) return Number(ts);
  if (DECIMAL.test(ts)) return Number(ts) * 1000;
  return undefined;
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
