"""The shape of the C sources (csrc/): small files, small functions, no include circle.

Reads files only (no namespaces, no lock).  Three rules, each a test:

- no C file (.c or .h) over FILE_MAX lines, tables named in TABLE_FILES aside;
- no function definition over FUNC_MAX lines, from the line where its declaration
  starts to its closing brace (a brace counter over the text with comments,
  strings and character constants blanked out);
- no include circle: neither among the files (a header includes only what is
  below it), nor among the modules, where x.c and x.h are one module and x depends
  on y when x.c or x.h includes y.h;
- and the circle no include shows: the code libbindtrace.so links besides
  bindtrace.c never calls an interposed function (close(), getsockopt(), ...) by
  its libc name, which would come back into the tracer's own interposer.

Run alone: /usr/bin/python3 tests/test_csrc_shape.py (prints the longest file and
function and every breach, then runs the tests).
"""

import os
import re
import sys

import pytest

HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(HOME, "csrc")
FILE_MAX = 500
FUNC_MAX = 60
# Data tables, which grow by one line per entry: exempt from FILE_MAX only.
TABLE_FILES = {"lib/errnames.c"}
# What is over the limits and still to be split: empty since issue 22 split the
# last of them.  Each entry must still be over (so these lists only shrink: remove
# an entry when its file or function is split); nothing else may be.
KNOWN_LONG_FILES = set()
KNOWN_LONG_FUNCTIONS = set()
# Where a quoted #include is looked for after the including file's own folder:
# the -I folders of the Makefile (-Icsrc, and -Icsrc/tests for the fuzzers).
INCLUDE_DIRS = [CSRC, os.path.join(CSRC, "tests")]

_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
_TOKEN = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def c_files():
    """Every .c and .h under csrc/, as paths relative to csrc/, sorted."""
    found = []
    for root, _dirs, files in os.walk(CSRC):
        for name in files:
            if name.endswith((".c", ".h")):
                found.append(os.path.relpath(os.path.join(root, name), CSRC))
    return sorted(found)


def read(rel):
    with open(os.path.join(CSRC, rel), encoding="utf-8", errors="replace") as f:
        return f.read()


def blank(text):
    """@text with comments, strings and character constants replaced by spaces
    (newlines kept, so line numbers stay), and preprocessor lines emptied."""
    def keep_lines(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    text = _TOKEN.sub(keep_lines, text)
    out, cont = [], False
    for line in text.split("\n"):
        directive = cont or line.lstrip().startswith("#")
        cont = directive and line.rstrip().endswith("\\")
        out.append("" if directive else line)
    return "\n".join(out)


def functions(rel):
    """(name, first line, length in lines) of each function defined in @rel."""
    text = blank(read(rel))
    found, depth, head_start, open_at = [], 0, 0, None
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                open_at = (head_start, i)
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and open_at is not None:
                start, brace = open_at
                head = text[start:brace]
                m = re.search(r"(\w+)\s*\([^;{}=]*\)[\s\w()]*$", head)
                if m:
                    first = start + len(head) - len(head.lstrip())
                    line0 = text.count("\n", 0, first) + 1
                    line1 = text.count("\n", 0, i) + 1
                    found.append((m.group(1), line0, line1 - line0 + 1))
                open_at = None
                head_start = i + 1
        elif ch == ";" and depth == 0:
            head_start = i + 1
    return found


def resolve(rel, name):
    """The csrc/-relative path that `#include "name"` in @rel means, or None (a
    system header)."""
    for folder in [os.path.join(CSRC, os.path.dirname(rel))] + INCLUDE_DIRS:
        path = os.path.normpath(os.path.join(folder, name))
        if os.path.isfile(path):
            return os.path.relpath(path, CSRC)
    return None


def include_graph():
    """{file: set of files it includes}, csrc/ files only."""
    graph = {}
    for rel in c_files():
        deps = (resolve(rel, name) for name in _INCLUDE.findall(read(rel)))
        graph[rel] = {d for d in deps if d}
    return graph


def module_graph(graph):
    """{module: set of modules}: x.c and x.h are module x."""
    mods = {}
    for rel, deps in graph.items():
        mod = os.path.splitext(rel)[0]
        mods.setdefault(mod, set()).update(
            os.path.splitext(d)[0] for d in deps if os.path.splitext(d)[0] != mod)
    return mods


def circles(graph):
    """Each circle of @graph as a list of nodes (first repeated at the end)."""
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def long_files():
    lengths = ((rel, read(rel).count("\n")) for rel in c_files())
    return [(rel, n) for rel, n in lengths if n > FILE_MAX and rel not in TABLE_FILES]


def long_functions():
    return [(rel, name, line, n) for rel in c_files() if rel.endswith(".c")
            for name, line, n in functions(rel) if n > FUNC_MAX]


def test_no_c_file_over_limit():
    over = {rel for rel, _n in long_files()}
    assert sorted(over - KNOWN_LONG_FILES) == [], "C files over %d lines" % FILE_MAX
    assert sorted(KNOWN_LONG_FILES - over) == [], "split now: remove from KNOWN_LONG_FILES"


def test_no_function_over_limit():
    over = {(rel, name) for rel, name, _line, _n in long_functions()}
    assert sorted(over - KNOWN_LONG_FUNCTIONS) == [], "functions over %d lines" % FUNC_MAX
    assert sorted(KNOWN_LONG_FUNCTIONS - over) == [], \
        "split now: remove from KNOWN_LONG_FUNCTIONS"


def test_no_include_circle():
    graph = include_graph()
    assert circles(graph) == [], "files that include each other"
    assert circles(module_graph(graph)) == [], "modules that include each other"


# What libbindtrace.so interposes (csrc/trace/bindtrace.c), and what it links
# besides bindtrace.c (the Makefile's TRACE_COMMON and TRACE_SHARED).
INTERPOSED = ("bind", "connect", "listen", "accept", "accept4", "getsockopt", "close",
              "setsockopt", "sendto", "sendmsg",   # these three: bindtrace_udp.c
              "getaddrinfo")
TRACER_LINKED = ("trace/trace_", "lib/")


def self_interposing_calls():
    """(file, line, call) for each call by its libc name of an interposed function in
    the code libbindtrace.so links: such a call would come back into the tracer's
    own interposer (it goes to the kernel through trace_sys.h instead)."""
    call = re.compile(r"(?<![\w.>])(%s)\s*\(" % "|".join(INTERPOSED))
    found = []
    for rel in c_files():
        if rel.endswith(".c") and rel.startswith(TRACER_LINKED):
            text = blank(read(rel))
            for m in call.finditer(text):
                found.append((rel, text.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


def test_the_tracer_does_not_call_its_own_interposers():
    assert self_interposing_calls() == [], "use trace_sys.h"


def test_the_counter_counts():
    """The brace counter finds functions and skips what only looks like them."""
    assert functions("main.c"), "no function found in csrc/main.c"
    text = blank('int f(void)\n{\n\tconst char *s = "}{";\n\t/* } */\n\treturn 0;\n}\n')
    assert text.count("{") == 1 and text.count("}") == 1
    assert circles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]


if __name__ == "__main__":
    files = sorted(((read(r).count("\n"), r) for r in c_files()), reverse=True)
    funcs = sorted(((n, "%s:%d %s()" % (r, line, name)) for r in c_files()
                    if r.endswith(".c") for name, line, n in functions(r)), reverse=True)
    print("longest file: %s (%d lines)" % (files[0][1], files[0][0]))
    print("longest function: %s (%d lines)" % (funcs[0][1], funcs[0][0]))
    for rel, n in long_files():
        known = " (known)" if rel in KNOWN_LONG_FILES else ""
        print("file over %d: %s %d%s" % (FILE_MAX, rel, n, known))
    for rel, name, line, n in long_functions():
        known = " (known)" if (rel, name) in KNOWN_LONG_FUNCTIONS else ""
        print("function over %d: %s:%d %s() %d%s" % (FUNC_MAX, rel, line, name, n, known))
    graph = include_graph()
    for c in circles(graph) + circles(module_graph(graph)):
        print("circle: " + " -> ".join(c))
    sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", __file__]))
