// nginx (njs) on the board's port: a range query may ask Prometheus for at most MAX_POINTS points
// per series, whatever its range: 24 h at the board's resolution is a few hundred. Prometheus itself
// would answer up to 11,000, which for every series of every panel costs it dearly.
// Written by hand: nginx can't do arithmetic on request arguments without a script.

const MAX_POINTS = 500;
const UNITS = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

function argument(r, name) {
    const value = r.args[name];
    if (value === undefined || value === '') {
        return { problem: `${name} is required` };
    }
    if (typeof value !== 'string') {
        return { problem: `${name} is given more than once` };
    }
    return { value: value };  // njs has decoded it already
}

// A Unix timestamp (seconds, with a fraction) or an RFC 3339 time, as Prometheus accepts them.
function timestamp(text) {
    if (/^-?\d+(\.\d+)?$/.test(text)) {
        return parseFloat(text);
    }
    const ms = Date.parse(text);
    return isNaN(ms) ? NaN : ms / 1000;
}

// Seconds (with a fraction) or a Prometheus duration such as 1m30s.
function duration(text) {
    if (/^\d+(\.\d+)?$/.test(text)) {
        return parseFloat(text);
    }
    if (!/^(\d+(ms|[smhdwy]))+$/.test(text)) {
        return NaN;
    }
    let seconds = 0;
    const parts = text.match(/\d+(ms|[smhdwy])/g);
    for (let i = 0; i < parts.length; i++) {
        const unit = parts[i].replace(/^\d+/, '');
        seconds += parseInt(parts[i], 10) * UNITS[unit];
    }
    return seconds;
}

// "" when the range query is fine, else why not (JSON-safe text for the 400 answer).
function rangeQueryProblem(r) {
    const start = argument(r, 'start');
    const end = argument(r, 'end');
    const step = argument(r, 'step');
    const missing = [start, end, step].filter((a) => a.problem).map((a) => a.problem);
    if (missing.length) {
        return missing.join('; ');
    }
    const from = timestamp(start.value);
    const to = timestamp(end.value);
    const every = duration(step.value);
    if (isNaN(from) || isNaN(to)) {
        return 'start and end must be Unix timestamps or RFC 3339 times';
    }
    if (isNaN(every) || every <= 0) {
        return 'step must be a positive number of seconds or a duration such as 30s';
    }
    if (to < from) {
        return 'end is before start';
    }
    const points = Math.floor((to - from) / every) + 1;
    if (points > MAX_POINTS) {
        const least = Math.ceil((to - from) / (MAX_POINTS - 1));
        return `${points} points per series asked for, at most ${MAX_POINTS} are served: use a step of at least ${least} s`;
    }
    return '';
}

export default { rangeQueryProblem };
