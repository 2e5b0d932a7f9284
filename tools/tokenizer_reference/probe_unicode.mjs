// Measures how Hugging Face tokenizers (the `tokenizers` npm package) classifies every
// Unicode code point, for tools/gen_unicode_tables.py --hf-probe. Hugging Face mixes
// Unicode versions: general categories from an old crate (Unicode 8: punctuation, format
// characters, nonspacing marks; unassigned code points are not "other"), normalization from
// another (~Unicode 9-12), lowercase and White_Space from Rust's std and \w from the regex
// crate (Unicode 15-16). embq matches it, so this probe records what it actually does:
//
//   node probe_unicode.mjs /tmp/hf_unicode.json
//   python3 ../gen_unicode_tables.py --hf-probe /tmp/hf_unicode.json
//
// which rewrites tools/tokenizer_reference/unicode_hf_overrides.json (the differences from Python's
// unicodedata) and then src/embed/text/unicode_tables.cpp.

import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const hf = require('tokenizers');

const out = process.argv[2];
if (!out) {
    console.error('usage: node probe_unicode.mjs OUT.json');
    process.exit(2);
}

const bert = (o) => hf.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false, ...o });
const clean = bert({ cleanText: true });
const chinese = bert({ handleChineseChars: true });
const bertStrip = bert({ stripAccents: true });
const stripAccents = hf.stripAccentsNormalizer();
const lower = hf.lowercase();
const nfd = hf.nfdNormalizer();
const nfkd = hf.nfkdNormalizer();
const bertPre = hf.bertPreTokenizer();
const whitespace = hf.whitespacePreTokenizer();
const digits = hf.digitsPreTokenizer(false);

const sets = { punct: [], control: [], whitespace: [], cjk: [], mn: [], mark: [], word: [], numeric: [] };
const lowercase = {};
const decompositions = { nfd: {}, nfkd: {} };
const cps = (s) => Array.from(s, (c) => c.codePointAt(0));

for (let cp = 0; cp <= 0x10ffff; ++cp) {
    if (cp >= 0xd800 && cp < 0xe000) continue;
    const c = String.fromCodePoint(cp);
    const inner = 'a' + c + 'b';
    const cleaned = clean.normalizeString(c);
    if (cleaned === '') sets.control.push(cp);
    else if (cleaned === ' ' && c !== ' ') sets.whitespace.push(cp);
    if (chinese.normalizeString(c) === ' ' + c + ' ') sets.cjk.push(cp);
    if (bertStrip.normalizeString(c) === '') sets.mn.push(cp);
    if (stripAccents.normalizeString(c) === '') sets.mark.push(cp);
    const pre = bertPre.preTokenizeString(inner).map((x) => x[0]);
    if (pre.length === 3 && pre[1] === c) sets.punct.push(cp);
    const ws = whitespace.preTokenizeString(inner).map((x) => x[0]);
    if (ws.length === 1 && ws[0] === inner) sets.word.push(cp);
    const dg = digits.preTokenizeString(inner).map((x) => x[0]);
    if (dg.length === 3 && dg[1] === c) sets.numeric.push(cp);
    const l = lower.normalizeString(c);
    if (l !== c) lowercase[cp] = cps(l);
    const d = nfd.normalizeString(c);
    if (d !== c) decompositions.nfd[cp] = cps(d);
    const k = nfkd.normalizeString(c);
    if (k !== c) decompositions.nfkd[cp] = cps(k);
}
// Whitespace that the clean-text test cannot see (it maps ' ' to itself).
sets.whitespace.push(0x20);
sets.whitespace.sort((a, b) => a - b);

const ranges = (list) => {
    const r = [];
    for (const cp of list) {
        if (r.length && r[r.length - 1][1] === cp - 1) r[r.length - 1][1] = cp;
        else r.push([cp, cp]);
    }
    return r;
};
const version = JSON.parse(fs.readFileSync(require.resolve('tokenizers/package.json'), 'utf8')).version;
const result = { tokenizers: version, sets: {}, lowercase, decompositions };
for (const [k, v] of Object.entries(sets)) result.sets[k] = ranges(v);
fs.writeFileSync(out, JSON.stringify(result));
console.log(`wrote ${out} (tokenizers ${version})`);
