#!/usr/bin/env python3
"""Man pages from the help texts: kmemscope(8) from `kmemscope --help`, and
kmemscope-CMD(8) from `kmemscope CMD --help` for every command it lists, each
joined with docs/man/kmemscope[-CMD].in (docs/man/README.md: the format).

Usage: tools/gen-man.py KMEMSCOPE SRC_DIR OUT_DIR

The help texts are the one source of the synopsis, the options and the
examples; the .in files add prose, EXIT STATUS, FILES, ENVIRONMENT, EXAMPLES
and SEE ALSO. Both are plain text read the same way:
  - a line "Usage: ..." and the indented lines after it: the synopsis;
  - "EXAMPLES", "OPTIONS" (a line of capitals) or "Commands:" (a line ending
    in a colon): a heading; what follows, up to the next heading, is its own;
  - a paragraph of lines at column 0: prose; "Exit ..." and "Common options:"
    lines start a paragraph of their own, which goes to EXIT STATUS or OPTIONS;
  - an indented paragraph whose lines have a term, two or more spaces and a
    text (or the text on deeper-indented lines below): a list of terms
    (options, files, exit codes); any other indented paragraph: literal lines;
  - under EXAMPLES, each indented line is a command, with "# what it does".
"""
import datetime
import os
import re
import subprocess
import sys

SECTION = "8"
MANUAL = "System Administration"
# Sections in the order a reader expects them; others go before SEE ALSO.
ORDER = ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS",
         "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"]
REQUIRED = ["EXIT STATUS", "FILES", "ENVIRONMENT", "EXAMPLES", "SEE ALSO"]
CONT_INDENT = 8		# deeper than this: a term's text continues


def esc(text):
    """Plain text as roff: backslashes, minus signs, control characters."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def line_safe(text):
    """A roff text line must not start with a control character."""
    return "\\&" + text if text[:1] in (".", "'") else text


REF = re.compile(r"\b([a-z][\w.\\-]*)\((\d)\)")


def prose(text):
    """Escaped text with man page references in bold: kmemscope\\-leaks(8)."""
    return REF.sub(r"\\%\\fB\1\\fR(\2)", esc(text))


# (\0 stands for a space that must not break: see synopsis_roff)
OPT = re.compile(r"(?<![\w\\-])(--?[A-Za-z0-9][\w-]*|--(?=[\s\0]|$))")
META = re.compile(r"\b([A-Z][A-Z0-9_]*(?:\.\.\.)?)(?=[\s\0\]|.,]|$)")


def styled(text):
    """Options bold, metavariables (FILE, SECONDS) italic, the rest plain."""
    out, pos = [], 0
    for m in re.finditer(r"%s|%s" % (OPT.pattern, META.pattern), text):
        out.append(esc(text[pos:m.start()]))
        word = m.group(0)
        out.append(("\\fB%s\\fR" if word.startswith("-") else "\\fI%s\\fR") % esc(word))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def tag(term):
    if term.startswith("-"):
        return styled(term)
    if term.startswith(("/", "~", "$")):
        return "\\fI%s\\fR" % esc(term)
    return "\\fB%s\\fR" % esc(term)


def is_heading(line):
    return bool(re.fullmatch(r"[A-Z][A-Z ]+", line) or
                re.fullmatch(r"[A-Z][a-z]*( [A-Za-z]+){0,2}:", line))


def paragraphs(lines):
    """Blank-line separated groups of lines."""
    block = []
    for line in lines + [""]:
        if line.strip():
            block.append(line.rstrip())
        elif block:
            yield block
            block = []


LABEL = re.compile(r"^[A-Z][A-Za-z ]*: ")


def split_labels(block):
    """Prose lines starting "Exit codes: " or "Common options: " begin a paragraph."""
    out = [[]]
    for line in block:
        if LABEL.match(line) and out[-1]:
            out.append([])
        out[-1].append(line)
    return out


def text_column(block):
    """Where the texts of a list of terms start: the commonest column of a
    text after two spaces or of a continuation line; None if there is none."""
    cols = []
    for line in block:
        indent = len(line) - len(line.lstrip())
        if indent > CONT_INDENT:
            cols.append(indent)
        else:
            m = re.search(r"\S\s{2,}(?=\S)", line)
            if m:
                cols.append(m.end())
    return max(set(cols), key=cols.count) if cols else None


def term_list(block):
    """[(term, text)] when the indented block is a list of terms, else None."""
    items = []
    col = text_column(block)
    for line in block:
        indent = len(line) - len(line.lstrip())
        if items and (indent > CONT_INDENT or (col and indent >= col)):
            items[-1][1].append(line.strip())
            continue
        # A term as long as its column leaves one space: split at the column.
        if col and len(line) > col and line[col - 1] == " " and line[col] != " " and \
                not re.search(r"\S\s{2,}\S", line[:col + 1]):
            items.append((line[:col].strip(), [line[col:].strip()]))
            continue
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        items.append((parts[0], parts[1:]))
    if not any(text for _, text in items):
        return None
    return [(term, " ".join(text)) for term, text in items]


class Page:
    def __init__(self):
        self.sections = {}	# name -> [roff lines]
        self.synopsis = []	# one entry per usage line
        # The help's one-paragraph "Exit: ..." and "Common options: ...":
        # shown only where the .in does not give the section in full.
        self.fallback = {}

    def add(self, name, lines):
        self.sections.setdefault(name, []).extend(lines)


def render_prose(block):
    return [".PP"] + [line_safe(prose(line.strip())) for line in block]


def render_terms(items):
    out = []
    for term, text in items:
        out += [".TP", line_safe(tag(term))]
        if text:
            out.append(line_safe(prose(text)))
    return out


def render_literal(block):
    cut = min(len(line) - len(line.lstrip()) for line in block)
    return [".PP", ".RS 4", ".nf"] + [line_safe(esc(line[cut:].rstrip())) for line in block] + \
        [".fi", ".RE"]


EXAMPLE_WIDTH = 68	# MANWIDTH=80 less the indentation of an example


def wrap_command(cmd):
    """A command too long for the page, broken at spaces with backslashes."""
    lines = []
    while len(cmd) > EXAMPLE_WIDTH:
        cut = cmd.rfind(" ", 0, EXAMPLE_WIDTH - 2)
        if cut <= len(cmd) - len(cmd.lstrip()):
            break
        lines.append(cmd[:cut] + " \\")
        cmd = "    " + cmd[cut + 1:]
    return lines + [cmd]


def render_examples(block):
    out, plain = [], []

    def flush():
        if plain:
            out.extend(render_literal(plain))
            plain.clear()

    for line in block:
        if not line.startswith(" "):	# prose between the commands
            flush()
            out += [".PP", line_safe(prose(line))]
            continue
        m = re.match(r"\s*(.*?)(?:\s{2,}#\s*(.*))?$", line)
        cmd, what = m.group(1).strip(), (m.group(2) or "").strip()
        if not what:
            plain.extend(wrap_command(cmd))
            continue
        flush()
        what = what[0].upper() + what[1:]
        out += [".PP", line_safe(prose(what.rstrip(".:") + ":"))]
        out += render_literal(wrap_command(cmd))[1:]
    flush()
    return out


def parse_text(page, lines, default="DESCRIPTION"):
    """Help text or a .in body into page's sections."""
    section = default
    usage = False
    for block in paragraphs(lines):
        if block[0].startswith("Usage:"):
            usage = True
        if usage:
            for line in block:
                line = re.sub(r"^Usage:\s*", "", line).strip()
                if line.startswith("kmemscope") or not page.synopsis:
                    page.synopsis.append(line)
                else:
                    page.synopsis[-1] += " " + line
            usage = False
            continue
        if is_heading(block[0].strip()) and not block[0].startswith(" "):
            section = block[0].strip().rstrip(":").upper()
            block = block[1:]
            if not block:
                continue
        parse_block(page, section, block)


def parse_block(page, section, block):
    if section == "EXAMPLES":
        page.add(section, render_examples(block))
    elif block[0].startswith(" "):
        items = term_list(block)
        if items and section == "DESCRIPTION" and any(t.startswith("-") for t, _ in items):
            section = "OPTIONS"	# the help's option list, under no heading
        page.add(section, render_terms(items) if items else render_literal(block))
    else:
        for para in split_labels(block):
            where = section
            if section == "DESCRIPTION" and re.match(r"Exit( codes)?: ", para[0]):
                page.fallback.setdefault("EXIT STATUS", []).extend(render_prose(para))
            elif section == "DESCRIPTION" and para[0].startswith("Common options: "):
                page.fallback.setdefault("OPTIONS", []).extend(render_prose(para))
            else:
                page.add(where, render_prose(para))


def read_in(path):
    """A .in file: '[SECTION]' lines start sections, '#' lines are comments."""
    if not os.path.exists(path):
        return None
    parts, name = {}, "DESCRIPTION"
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            if line.startswith("#"):
                continue
            m = re.fullmatch(r"\[([A-Z][A-Z ]*)\]\s*", line)
            if m:
                name = m.group(1)
                parts.setdefault(name, [])
                continue
            parts.setdefault(name, []).append(line)
    return parts


def synopsis_roff(lines):
    out = []
    for line in lines:
        m = re.match(r"(kmemscope(?: [a-z]+)?)(.*)", line)
        head, rest = (m.group(1), m.group(2)) if m else ("", line)
        # Keep each [group] on one line: spaces inside brackets do not break.
        depth, chars = 0, []
        for c in rest:
            depth += c == "["
            depth -= c == "]"
            chars.append("\x00" if c == " " and depth > 0 else c)
        rest = styled("".join(chars)).replace("\x00", "\\ ")
        out += [".PP", line_safe(("\\fB%s\\fR" % esc(head)) + rest)]
    return out


def date():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%d")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        return subprocess.run(["git", "-C", root, "log", "-1", "--format=%cs"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return datetime.date.today().isoformat()


def write_page(path, name, summary, version, page):
    for section in REQUIRED:
        if section not in page.sections:
            print("gen-man: %s has no %s section" % (name, section), file=sys.stderr)
    out = ['.\\" Generated by tools/gen-man.py from "%s --help" and docs/man/%s.in:'
           % (name.replace("-", " "), name), '.\\" do not edit.',
           '.TH "%s" "%s" "%s" "kmemscope %s" "%s"' % (esc(name.upper()), SECTION, date(),
                                                       esc(version), MANUAL),
           ".\\\" Left-aligned, no hyphens: names such as kmem_cache_alloc stay whole.",
           ".ad l", ".nh", ".SH NAME", "%s \\- %s" % (esc(name), esc(summary))]
    if page.synopsis:
        out += [".SH SYNOPSIS"] + synopsis_roff(page.synopsis)
    names = [s for s in ORDER if s in page.sections]
    names[-1:-1] = [s for s in page.sections if s not in ORDER] if "SEE ALSO" in names else []
    names += [s for s in page.sections if s not in names]
    for section in names:
        out += [".SH %s" % esc(section)] + page.sections[section]
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    os.replace(path + ".tmp", path)


def help_text(kmemscope, *args):
    r = subprocess.run([kmemscope, *args, "--help"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("gen-man: %s %s --help exited %d: %s" % (kmemscope, " ".join(args),
                                                          r.returncode, r.stderr.strip()))
    return r.stdout.splitlines()


def commands(main_help):
    """[(name, summary)] from the Commands: block of kmemscope --help."""
    out, inside = [], False
    for line in main_help:
        if line.strip() == "Commands:":
            inside = True
        elif inside and line.strip():
            name, summary = line.split(None, 1)
            out.append((name, summary.strip()))
        elif inside:
            break
    return out


def build(name, summary, help_lines, src, version, out_dir, extra=None):
    page = Page()
    parse_text(page, help_lines)
    if extra:
        page.add("COMMANDS", extra)
    doc = read_in(os.path.join(src, name + ".in"))
    if doc is None:
        print("gen-man: no %s/%s.in: %s(8) has only the help text" % (src, name, name),
              file=sys.stderr)
        doc = {}
    summary = " ".join(doc.pop("NAME", [])).strip() or summary
    for section, lines in doc.items():
        parse_text(page, lines, section)
    for section, lines in page.fallback.items():
        if section not in doc:
            page.sections[section] = lines + page.sections.get(section, [])
    write_page(os.path.join(out_dir, "%s.%s" % (name, SECTION)), name, summary, version, page)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: tools/gen-man.py KMEMSCOPE SRC_DIR OUT_DIR")
    kmemscope, src, out_dir = sys.argv[1:]
    os.makedirs(out_dir, exist_ok=True)
    version = subprocess.run([kmemscope, "--version"], capture_output=True, text=True,
                             check=True).stdout.split("\n")[0].split()[-1]
    main_help = help_text(kmemscope)
    cmds = commands(main_help)
    if not cmds:
        sys.exit("gen-man: no Commands: list in %s --help" % kmemscope)
    listed = []
    for cmd, summary in cmds:
        listed += [".TP", "\\fB%s\\fR" % esc(cmd),
                   "%s; see \\fBkmemscope\\-%s\\fR(8)." % (esc(summary), esc(cmd))]
    main_lines = [line for line in main_help if not re.match(r"  \S+ {2,}", line) or
                  line.split()[0] not in dict(cmds)]
    main_lines = [line for line in main_lines if line.strip() != "Commands:"]
    build("kmemscope", "trace kernel memory allocations, leaks and fragmentation",
          main_lines, src, version, out_dir, listed)
    for cmd, summary in cmds:
        build("kmemscope-" + cmd, summary, help_text(kmemscope, cmd), src, version, out_dir)
    known = {"kmemscope"} | {"kmemscope-" + c for c, _ in cmds}
    for f in sorted(os.listdir(src)):
        if f.endswith(".in") and f[:-3] not in known:
            print("gen-man: %s/%s is no command's page" % (src, f), file=sys.stderr)


if __name__ == "__main__":
    main()
