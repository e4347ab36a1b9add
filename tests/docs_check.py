#!/usr/bin/env python3
"""Runs what the README and docs/ show, so that they cannot drift from the code.

    python3 tests/docs_check.py BINARY

Without a server:
- every link between the pages resolves (file and heading), and none leaves
  the repository;
- every `make TARGET` named is a target of the Makefile;
- every `newsdesk …` command line shown (in text or in the command table of
  docs/operations.md) is a command of BINARY, with the options it names;
- every NEWSDESK_* variable the docs name is read somewhere in the project,
  and every variable the server reads is documented.

With a server started the way the README says (`make run`, pointed at BINARY
and a scratch folder, on a free port):
- every GraphQL example followed by a JSON answer gets that answer ("…" in an
  expected string stands for the rest of it; a string that is only "…"
  stands for any value);
- every `curl …` shown in the text answers without GraphQL errors;
- every ```sh block runs, page after page in one shell, in the scratch
  folder; a comment line right after a command that starts with `# {`, `# [`
  or `# HTTP/` is that command's expected output. Blocks made only of `make`
  lines are the README's commands: `make run` is what started the server and
  `make test` is what runs this check, so they are checked as targets.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCUMENTED_PORT = "127.0.0.1:8080"
DOCUMENTED_BINARY = "~/.cache/newsdesk/target/release/newsdesk"

failures = []


def fail(where, message):
    failures.append(f"{where}: {message}")


def pages():
    """README.md, then docs/ in the order of its index, then any page it misses."""
    ordered = [REPO / "README.md"]
    index = (REPO / "docs" / "README.md").read_text()
    for name in re.findall(r"\]\(([a-z0-9-]+\.md)\)", index):
        path = REPO / "docs" / name
        if path not in ordered:
            ordered.append(path)
    for path in sorted((REPO / "docs").glob("*.md")):
        if path not in ordered:
            ordered.append(path)
    return ordered


def name(path):
    return str(path.relative_to(REPO))


def without_code_blocks(text):
    return re.sub(r"```.*?```", "", text, flags=re.S)


def blocks(text):
    """(language, body) of each fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)```", text, re.S)]


def code_spans(text):
    return re.findall(r"`([^`\n]+)`", without_code_blocks(text))


def anchor(heading):
    """GitHub's anchor for a heading."""
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def check_links(path, text):
    for target in re.findall(r"\]\(([^)\s]+)\)", without_code_blocks(text)):
        if re.match(r"[a-z]+:", target):
            fail(name(path), f"links outside the repository: {target}")
            continue
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            fail(name(path), f"broken link {target}")
            continue
        if fragment and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
            if fragment not in {anchor(h) for h in headings}:
                fail(name(path), f"link {target}: no such heading in {linked.name}")


def make_targets():
    makefile = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M))


def check_make(path, text):
    targets = make_targets()
    shown = [s for s in code_spans(text) if s.startswith("make ")]
    for lang, body in blocks(text):
        if lang == "sh":
            shown += [line for line in body.splitlines() if line.startswith("make ")]
    for command in shown:
        target = command.split()[1] if len(command.split()) > 1 else ""
        if target not in targets:
            fail(name(path), f"`{command}`: the Makefile has no target {target!r}")


def command_lines(text, path):
    """Command lines of the CLI shown in a page: inline, and the command table."""
    lines = []
    for span in code_spans(text):
        m = re.match(r"(?:\$NEWSDESK|newsdesk) (.+)", span)
        if m:
            lines.append(m.group(1))
    if path.name == "operations.md":
        for lang, body in blocks(text):
            for line in body.splitlines():
                m = re.match(r"newsdesk (\S+(?: \S+)*?)(?:\s{2,}|$)", line)
                if m:
                    lines.append(m.group(1))
    return lines


def check_cli(binary, path, text):
    for line in command_lines(text, path):
        words = line.split()
        path_words = []
        for w in words:
            if w.startswith("-") or not re.fullmatch(r"[a-z][a-z-]*", w):
                break
            path_words.append(w)
        helped = subprocess.run(
            [binary, *path_words, "--help"], capture_output=True, text=True, timeout=30
        )
        if helped.returncode != 0:
            fail(name(path), f"`newsdesk {line}` is not a command")
            continue
        for option in re.findall(r"--[a-z][a-z-]*", line):
            if option not in helped.stdout:
                fail(name(path), f"`newsdesk {line}`: {option} is not an option of it")


def check_variables(all_text):
    sources = ""
    for folder in ("src", "tests", "bench", "tools"):
        for file in (REPO / folder).rglob("*"):
            if "node_modules" in file.parts or "target" in file.parts:
                continue
            if file.is_file() and file.suffix in {".rs", ".py", ".sh", ".mjs", ".js"}:
                sources += file.read_text(errors="replace")
    sources += (REPO / "Makefile").read_text() + (REPO / ".ci" / "run").read_text()
    documented = set(re.findall(r"NEWSDESK_[A-Z0-9_]*[A-Z0-9]", all_text))
    for variable in sorted(documented):
        if variable not in sources:
            fail("docs", f"{variable} is documented but nothing reads it")
    config = (REPO / "src" / "config.rs").read_text()
    for variable in sorted(set(re.findall(r'"(NEWSDESK_[A-Z0-9_]+)"', config))):
        if variable not in all_text:
            fail("docs", f"{variable} is read by src/config.rs but not documented")


def matches(expected, actual, at="$"):
    """None when `actual` fits `expected`, else where it does not."""
    if isinstance(expected, str) and expected == "…":
        return None
    if isinstance(expected, str) and "…" in expected and isinstance(actual, str):
        head, _, tail = expected.partition("…")
        ok = actual.startswith(head) and actual.endswith(tail)
        return None if ok else f"{at}: {actual!r} does not fit {expected!r}"
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            return f"{at}: keys {sorted(actual)} instead of {sorted(expected)}"
        for key in expected:
            wrong = matches(expected[key], actual[key], f"{at}.{key}")
            if wrong:
                return wrong
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{at}: {len(actual)} items instead of {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            wrong = matches(e, a, f"{at}[{i}]")
            if wrong:
                return wrong
        return None
    return None if expected == actual else f"{at}: {actual!r} instead of {expected!r}"


def post_graphql(port, query):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def check_graphql_examples(port, path, text):
    found = blocks(text)
    for (lang, body), following in zip(found, found[1:] + [("", "")]):
        if lang != "graphql":
            continue
        answer = post_graphql(port, body)
        if following[0] == "json":
            wrong = matches(json.loads(following[1]), answer)
            if wrong:
                fail(name(path), f"example {body.split()[1:3]} answers differently: {wrong}")
        elif answer.get("errors"):
            fail(name(path), f"example {body.strip()[:60]!r} fails: {answer['errors']}")


def local(command, port, binary):
    return command.replace(DOCUMENTED_PORT, f"127.0.0.1:{port}").replace(DOCUMENTED_BINARY, binary)


def check_inline_curl(port, binary, path, text):
    for span in code_spans(text):
        if not span.startswith("curl "):
            continue
        run = subprocess.run(
            ["bash", "-c", local(span, port, binary)], capture_output=True, text=True, timeout=30
        )
        if run.returncode != 0 or '"errors"' in run.stdout:
            fail(name(path), f"`{span}` failed: {run.stdout[:300]} {run.stderr[:300]}")


MARK = "@@docs-check-expect@@"


def shell_script(port, binary, sections):
    """One script for every runnable block; each expected output becomes a marker."""
    script, expectations = ["set -e"], []
    for path, body in sections:
        script.append(f"echo '{MARK} page {name(path)}'")
        for line in local(body, port, binary).splitlines():
            m = re.match(r"# (\{.*|\[.*|HTTP/.*)$", line)
            if m:
                script.append(f"echo '{MARK} {len(expectations)}'")
                expectations.append((path, m.group(1)))
            else:
                script.append(line)
    return "\n".join(script) + "\n", expectations


def check_output(path, expected, output):
    lines = [l for l in output.splitlines() if l.strip()]
    if not lines:
        fail(name(path), f"no output where {expected[:60]!r} was expected")
        return
    if expected.startswith("HTTP/"):
        if lines[-1].strip() != expected:
            fail(name(path), f"{lines[-1].strip()!r} instead of {expected!r}")
        return
    try:
        actual = json.loads(lines[-1])
    except json.JSONDecodeError:
        fail(name(path), f"not JSON where {expected[:60]!r} was expected: {lines[-1][:200]}")
        return
    try:
        wanted = json.loads(expected)
    except json.JSONDecodeError as e:
        fail(name(path), f"the documented answer is not JSON ({e}): {expected[:120]}")
        return
    wrong = matches(wanted, actual)
    if wrong:
        fail(name(path), f"answer differs from the documented one: {wrong}")


def run_shell_blocks(port, binary, workdir, runnable):
    script, expectations = shell_script(port, binary, runnable)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "NEWSDESK_"))}
    run = subprocess.run(
        ["bash", "-c", script], cwd=workdir, capture_output=True, text=True, timeout=300, env=env
    )
    # Each marker line ends the output of the commands since the one before.
    parts = run.stdout.split(MARK)
    outputs = [parts[0]] + [p.partition("\n")[2] for p in parts[1:]]
    current = "README.md"
    for i, part in enumerate(parts[1:], start=1):
        head = part.partition("\n")[0].strip()
        if head.startswith("page "):
            current = head[5:]
            continue
        path, expected = expectations[int(head)]
        check_output(path, expected, outputs[i - 1])
    for line in run.stdout.splitlines():
        if line.startswith("{") and '"errors"' in line:
            fail(current, f"a command answered with errors: {line[:300]}")
    if run.returncode != 0:
        fail(current, f"the shell examples stopped (exit {run.returncode}): {run.stderr[-800:]}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_make_run(binary, workdir, port):
    """`make run` as the README says, with BINARY in place of the release build."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "NEWSDESK_"))}
    env["RUST_LOG"] = "warn"
    server = subprocess.Popen(
        [
            "make", "--no-print-directory", "-C", str(workdir), "-f", str(REPO / "Makefile"),
            "run", "RUN_BUILD=", f"RELEASE={binary}", f"NEWSDESK_BIND=127.0.0.1:{port}",
            f"SEED={REPO}/tests/data/seed/*.txt",
        ],
        stdout=open(workdir / "make-run.log", "w"), stderr=subprocess.STDOUT,
        env=env, start_new_session=True,
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
            return server
        except (urllib.error.URLError, ConnectionError, OSError):
            if server.poll() is not None:
                break
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGTERM)
    sys.exit(f"docs check: `make run` did not serve:\n{(workdir / 'make-run.log').read_text()[-2000:]}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: docs_check.py BINARY")
    binary = str(Path(sys.argv[1]).resolve())
    all_pages = pages()
    texts = {p: p.read_text() for p in all_pages}
    for path, text in texts.items():
        check_links(path, text)
        check_make(path, text)
        check_cli(binary, path, text)
    check_variables("".join(texts.values()) + (REPO / ".env.example").read_text())

    workdir = Path(tempfile.mkdtemp(prefix="newsdesk-docs-"))
    port = free_port()
    server = start_make_run(binary, workdir, port)
    try:
        runnable = []
        for path, text in texts.items():
            check_graphql_examples(port, path, text)
            check_inline_curl(port, binary, path, text)
            for lang, body in blocks(text):
                commands = [l for l in body.splitlines() if l.strip() and not l.startswith("#")]
                if lang == "sh" and not all(l.startswith("make ") for l in commands):
                    runnable.append((path, body))
        run_shell_blocks(port, binary, workdir, runnable)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    if failures:
        print("\n".join(f"docs check: {f}" for f in failures), file=sys.stderr)
        sys.exit(1)
    print(f"docs check: {len(all_pages)} pages, every link, command and example holds")


if __name__ == "__main__":
    main()
