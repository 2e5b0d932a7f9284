"""Markdown rendering and the targets of bench_models.py (pure functions over its JSON)."""


def _f(value, spec, missing="-"):
    return missing if value is None else format(value, spec)


def _mib(n_bytes):
    return None if n_bytes is None else n_bytes / 2**20


def targets(model_result):
    """The issue's three targets for one model: [{name, met, detail}]. A target whose
    variants failed or were not run is reported as NOT RUN rather than guessed."""
    v = model_result["variants"]
    out = []

    def quality(name):
        return (v.get(name) or {}).get("quality") or {}

    def speed(name, b):
        return (((v.get(name) or {}).get("speed") or {}).get(str(b)) or {}).get("ratio")

    largest_b = str(max(int(b) for b in model_result["batch_sizes"]))
    ours, peer = "configs/int8.json", "peer: torch quantize_dynamic"
    if quality(ours) and quality(peer) and speed(ours, largest_b) and speed(peer, largest_b):
        rq, pq = quality(ours)["recall@10"], quality(peer)["recall@10"]
        rs, ps = speed(ours, largest_b), speed(peer, largest_b)
        met = rq >= pq - 0.01 and rs >= 0.9 * ps
        out.append({"name": f"embq int8 ({ours}) matches the peer: recall@10 within 0.01 of the peer's "
                            f"or better, and >= 0.9x its speed at batch {largest_b}", "met": met,
                    "detail": f"recall@10 embq {rq:.4f} vs peer {pq:.4f}; cross_recall@10 "
                              f"{quality(ours)['cross_recall@10']:.4f} vs {quality(peer)['cross_recall@10']:.4f}; "
                              f"speed vs FP32 at b{largest_b} embq {rs:.2f}x vs peer {ps:.2f}x; "
                              f"size {v[ours]['size_ratio']:.1%} vs {v[peer]['size_ratio']:.1%}"
                              + (f"; cosine embq vs peer outputs (timing batches) min "
                                 f"{model_result['embq_vs_peer_cosine_min']:.5f}"
                                 if model_result.get("embq_vs_peer_cosine_min") is not None else "")})
    else:
        out.append({"name": "embq int8 vs peer", "met": None, "detail": "not run or failed"})

    name = "int8_dynamic only"
    r = speed(name, "32")
    out.append({"name": "int8_dynamic (every linear, nothing else) >= 2x FP32 throughput at batch 32",
                "met": None if r is None else r >= 2.0,
                "detail": "batch 32 not measured" if r is None else f"{r:.2f}x FP32 at batch 32"})

    shipped = [(n, x) for n, x in v.items() if n.startswith("configs/") and x.get("quality")]
    small = [(n, x) for n, x in shipped if x["size_ratio"] <= 0.35]
    if small:
        n, x = max(small, key=lambda nx: nx[1]["quality"]["recall@10"])
        rec = x["quality"]["recall@10"]
        out.append({"name": "best shipped config at <= 35% size has recall@10 >= 0.99", "met": rec >= 0.99,
                    "detail": f"{n}: recall@10 {rec:.4f} at {x['size_ratio']:.1%} of FP32"})
    else:
        sizes = ", ".join(f"{n} {x['size_ratio']:.1%}" for n, x in shipped) or "none measured"
        out.append({"name": "best shipped config at <= 35% size has recall@10 >= 0.99", "met": False if shipped else None,
                    "detail": f"no shipped config is <= 35% of FP32 ({sizes})"})
    return out


def _status(met):
    return "NOT RUN" if met is None else ("MET" if met else "NOT MET")


def model_table(m):
    bs = [str(b) for b in m["batch_sizes"]]
    head = (["variant", "size", "size ratio"] + [f"sent/s b{b} (x FP32)" for b in bs]
            + ["b1 p50 / p95 ms" if "1" in bs else f"b{bs[0]} p50 / p95 ms", "peak RSS MiB",
               "recall@10", "cross_recall@10", "cosine p5", "hit@1 delta"])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lat_b = "1" if "1" in bs else bs[0]
    for name, x in m["variants"].items():
        if x.get("error"):
            lines.append(f"| {name} | failed: {x['error']} |" + " |" * (len(head) - 2))
            continue
        sp, q = x.get("speed") or {}, x.get("quality") or {}
        cells = [name, f"{_mib(x['bytes']):.2f} MiB", f"{x['size_ratio']:.1%}"]
        for b in bs:
            s = sp.get(b)
            cells.append("-" if not s else f"{s['sent_per_s']:.0f} ({s['ratio']:.2f}x)")
        s = sp.get(lat_b)
        cells.append("-" if not s else f"{s['latency_ms_p50']:.1f} / {s['latency_ms_p95']:.1f}")
        cells.append(_f(x.get("peak_rss_mib"), ".0f"))
        if name == "FP32":
            cells += ["1 (ref)", "1 (ref)", "1 (ref)", f"0 (hit@1 {q['hit@1_baseline']:.4f})" if q else "0"]
        else:
            cells += [_f(q.get("recall@10"), ".4f"), _f(q.get("cross_recall@10"), ".4f"),
                      _f(q.get("cosine.p5"), ".4f"), _f(q.get("hit@1_delta"), "+.4f")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cost_table(m):
    lines = ["| variant | quantize wall s | quantize peak RSS MiB |", "| --- | --- | --- |"]
    for name, x in m["variants"].items():
        c = x.get("quantize_cost")
        if c:
            lines.append(f"| {name} | {c['wall_s']:.2f} | {c['peak_rss_mib']:.0f} |")
    return "\n".join(lines)


def profile_table(prof):
    lines = ["| op | self CPU ms / forward | share | calls / forward |", "| --- | --- | --- | --- |"]
    for op in prof["ops"]:
        lines.append(f"| `{op['op']}` | {op['self_cpu_ms_per_call']:.2f} | {op['share']:.1%} | "
                     f"{op['calls_per_forward']:.0f} |")
    return "\n".join(lines)


def render(doc):
    mach, setup = doc["machine"], doc["setup"]
    md = ["# embq model benchmark", "",
          f"Machine: {mach['cpu']}, {mach['cpus']} CPUs (load average {mach['loadavg_start']} at start, "
          f"{mach.get('loadavg_end', '?')} at end); torch {mach['torch']}, quantized engine "
          f"{mach['engine']}; {setup['threads']} threads; TorchScript executor `{setup['executor']}`; "
          f"{doc['date']}; embq `{doc['embq_version']}`.", "",
          "How it was measured: " + setup["method"], ""]
    for key, m in doc["models"].items():
        md += [f"## {key}: {m['model']}", "",
               f"FP32 {_mib(m['fp32_bytes']):.2f} MiB. Timing: {m['timing_sentences']} corpus sentences "
               f"(batch 1: the first {m['b1_sentences']}) "
               f"({m['timing_tokens_mean']:.1f} tokens on average; ids from {m['timing_tokenizer']}), "
               f"{setup['repeats']} interleaved repeats after {setup['warmup']} warm-up passes. "
               f"Quality: `embq eval` on {m['eval']['corpus_lines']} corpus lines, "
               f"{m['eval']['pairs_lines']} labelled pairs, {m['eval']['queries_sample']} sampled queries. "
               f"Peak RSS: a fresh process that loads the model and embeds the batch-{m['rss_batch']} batches "
               f"(python + torch + batches alone: {m['rss_baseline_mib']:.0f} MiB).", "",
               model_table(m), "", "Cost of quantizing (child process each):", "", cost_table(m), "",
               "Targets:", ""]
        for t in m["targets"]:
            md.append(f"- **{_status(t['met'])}** {t['name']}: {t['detail']}")
        md.append("")
        for variant, prof in (m.get("profile") or {}).items():
            md += [f"Where the time goes, {variant}, batch {prof['batch_shape'][0]} x {prof['batch_shape'][1]} "
                   f"tokens (torch.autograd.profiler, {prof['runs']} calls; "
                   f"{prof['total_self_cpu_ms_per_call']:.1f} ms self CPU per forward):", "",
                   profile_table(prof), ""]
    if doc.get("failures"):
        md += ["## Failures", ""] + [f"- {f}" for f in doc["failures"]] + [""]
    return "\n".join(md)
