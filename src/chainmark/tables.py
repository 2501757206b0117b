"""Terminal tables that fit the width they are printed at, without cutting a name.

Rich fits a table that is too wide by shrinking columns, and a shrunk column is cut
("ops.obse…") or, below one character, vanishes (an empty `┃┃`). Here a table is instead
offered as a few *layouts*, widest first (a flat table; one block per group with the group
as a heading; plain lines). Each layout knows the width it needs for every no-wrap cell to
show whole, and `Fit` renders, at print time, the first one that fits the width it is given
(a terminal's, or 80 when output is piped).

Inside a layout every column is no-wrap except at most one free-text column (notes, a title),
which takes what is left and wraps at spaces. Rich only ever shrinks a wrappable column, so
when the layout's width is available nothing else is touched; names have no spaces, so they
wrap nowhere and, should a terminal ever be narrower than a name, fold rather than vanish.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from chainmark.scenarios import Scenario
from chainmark.scenarios.spec import DEFAULT_PROFILE


class Flow:
    """Short items (figures like "p99 1.271 s") laid out side by side and wrapped *between*
    items, never inside one unless it is wider than the line; then free text, wrapped at
    spaces. For a free-text cell whose width is only known when the table is drawn."""

    def __init__(self, items: Sequence[str], text: str = "", sep: str = " · ",
                 style: str = "") -> None:
        self.items = [i for i in items if i]
        self.text = text
        self.sep = sep
        self.style = style

    def lines(self, width: int) -> list[str]:
        lines: list[str] = []
        for item in self.items:
            joined = f"{lines[-1]}{self.sep}{item}" if lines else item
            if lines and cell_len(joined) <= width:
                lines[-1] = joined
            else:
                lines.append(item)
        return lines

    @property
    def plain(self) -> str:
        return "\n".join(p for p in (self.sep.join(self.items), self.text) if p)

    @property
    def min_width(self) -> int:
        return max((cell_len(w) for w in (*self.items, *self.text.split())), default=1)

    @property
    def max_width(self) -> int:
        return max((cell_len(line) for line in self.plain.splitlines()), default=1)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = Text("\n".join(self.lines(options.max_width)), style=self.style)
        if self.text:
            text.append(("\n" if self.items else "") + self.text)
        yield text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.min_width, self.max_width).with_maximum(options.max_width)


Cell = str | Text | Flow
Row = Sequence[Cell]


def as_text(cell: Cell) -> Text:
    if isinstance(cell, Flow):
        return Text(cell.plain)
    return cell if isinstance(cell, Text) else Text(cell)


def as_renderable(cell: Cell) -> Text | Flow:
    return cell if isinstance(cell, Flow) else as_text(cell)


def stacked(*lines: Cell | None) -> Text:
    """Several values in one cell, one per line (None and empty ones left out)."""
    parts = [as_text(line) for line in lines if line is not None and str(line) != ""]
    return Text("\n").join(parts)


def _longest_line(texts: Iterable[Text | Flow]) -> int:
    return max((cell_len(line) for t in texts for line in t.plain.splitlines()), default=0)


def _longest_word(texts: Iterable[Text | Flow]) -> int:
    """The narrowest a cell can be without cutting a word (a Flow: an item)."""
    return max((t.min_width if isinstance(t, Flow) else
                max((cell_len(w) for w in t.plain.split()), default=1) for t in texts),
               default=1)


@dataclass(frozen=True)
class Col:
    header: str
    justify: str = "left"  # rich's JustifyMethod
    # The free-text column (at most one per layout): wraps at spaces and takes the width
    # left over; every other column shows its cells whole or the layout is not chosen.
    wrap: bool = False
    style: str | None = None


class Layout(Protocol):
    @property
    def need(self) -> int:
        """The narrowest width at which every no-wrap cell shows whole."""
        ...

    def build(self, max_width: int) -> RenderableType: ...


def _new_table(cols: Sequence[Col], *, widths: Sequence[int] | None = None,
               **options: object) -> Table:
    t = Table(header_style="bold", **options)  # type: ignore[arg-type]
    for i, col in enumerate(cols):
        t.add_column(col.header, justify=col.justify, no_wrap=not col.wrap,  # type: ignore[arg-type]
                     overflow="fold", style=col.style,
                     min_width=widths[i] if widths is not None and not col.wrap else None,
                     ratio=1 if col.wrap and widths is not None else None)
    return t


def _frame(t: Table) -> int:
    """What the table adds to its cells' content: borders and padding."""
    return t._extra_width + sum(t._get_padding_width(i) for i in range(len(t.columns)))


def _content_widths(cols: Sequence[Col], rows: Iterable[Row], *, natural: bool) -> list[int]:
    """Per column: the width its cells need (the free-text column: its longest word, or its
    longest line when `natural`)."""
    cells: list[list[Text | Flow]] = [[Text(c.header)] for c in cols]
    for row in rows:
        for i, cell in enumerate(row):
            cells[i].append(as_renderable(cell))
    return [(_longest_word(texts) if col.wrap and not natural else _longest_line(texts))
            for col, texts in zip(cols, cells, strict=True)]


@dataclass
class Flat:
    """One table, a row per item."""

    cols: Sequence[Col]
    rows: Sequence[Row]
    title: str | None = None
    caption: str | None = None
    after: Sequence[RenderableType] = ()  # printed below it (a legend)
    after_need: int = 0

    def _table(self) -> Table:
        t = _new_table(self.cols, title=self.title, caption=self.caption)
        for row in self.rows:
            t.add_row(*(as_renderable(c) for c in row))
        return t

    @property
    def need(self) -> int:
        widths = _content_widths(self.cols, self.rows, natural=False)
        return max(sum(widths) + _frame(self._table()), self.after_need)

    def build(self, max_width: int) -> RenderableType:
        return Group(self._table(), *self.after)


@dataclass
class Blocks:
    """One table per group, under the group's heading; every block has the same columns and
    widths, so they read as one table cut into sections."""

    cols: Sequence[Col]
    blocks: Sequence[tuple[Cell, Sequence[Row]]]  # (heading, rows)
    title: str | None = None
    caption: str | None = None
    after: Sequence[RenderableType] = ()
    after_need: int = 0

    def _rows(self) -> list[Row]:
        return [row for _, rows in self.blocks for row in rows]

    @property
    def need(self) -> int:
        widths = _content_widths(self.cols, self._rows(), natural=False)
        headings = _longest_word(as_text(h) for h, _ in self.blocks)
        return max(sum(widths) + _frame(_new_table(self.cols)), headings, self.after_need)

    def build(self, max_width: int) -> RenderableType:
        widths = _content_widths(self.cols, self._rows(), natural=True)
        natural = sum(widths) + _frame(_new_table(self.cols))
        width = min(max_width, natural)
        parts: list[RenderableType] = []
        if self.title:
            parts.append(Text(self.title, style="bold"))
        for i, (heading, rows) in enumerate(self.blocks):
            # The column headers once, above the first block: every block has the same columns.
            t = _new_table(self.cols, widths=widths, width=width, show_header=i == 0)
            for row in rows:
                t.add_row(*(as_renderable(c) for c in row))
            title = as_text(heading).copy()
            title.stylize("bold")
            parts += [title, t]
        if self.caption:
            parts.append(Text(self.caption, style="dim"))
        return Group(*parts, *self.after)


@dataclass
class Lines:
    """Plain wrapped lines: the layout of last resort, fits any width."""

    lines: Sequence[RenderableType] = field(default_factory=list)
    need: int = 0

    def build(self, max_width: int) -> RenderableType:
        return Group(*self.lines)


class Fit:
    """Renders the first of its layouts that fits the width available (the last one if
    none does)."""

    def __init__(self, *layouts: Layout) -> None:
        if not layouts:
            raise ValueError("Fit needs at least one layout")
        self.layouts = layouts

    def choose(self, width: int) -> Layout:
        return next((lay for lay in self.layouts if lay.need <= width), self.layouts[-1])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.choose(options.max_width).build(options.max_width)


# --- `chainmark list`: scenarios × contestants ------------------------------------------------


class ContestantLike(Protocol):
    name: str
    language: str
    description: str


MATRIX_TITLE = "scenarios × contestants (✓ implemented)"


def _mark(names: frozenset[str] | None, scenario: str) -> Text:
    if names is None:
        return Text("?", style="yellow")
    return Text("✓", style="green") if scenario in names else Text("·", style="dim")


def _about(c: ContestantLike, key: str | None = None) -> Text:
    text = Text()
    if key is not None:
        text.append(f"{key} ", style="bold cyan")
    text.append(c.name, style="bold")
    text.append(f" ({c.language}): {c.description}")
    return text


def contestant_matrix(scenarios: Sequence[Scenario], contestants: Sequence[ContestantLike],
                      implemented: Mapping[str, frozenset[str] | None]) -> Fit:
    """Which contestant implements which scenario: a column per contestant when their names
    fit; numbered columns with a legend when not; a line per scenario at the very narrowest."""
    names = [c.name for c in contestants]
    wide = Flat(
        cols=[Col("scenario"), Col("default model"),
              *(Col(n, justify="center") for n in names), Col("title", wrap=True)],
        rows=[[s.name, s.model_for(DEFAULT_PROFILE),
               *(_mark(implemented[n], s.name) for n in names),
               s.title] for s in scenarios],
        title=MATRIX_TITLE,
        after=[_about(c) for c in contestants],
    )
    keys = [str(i) for i in range(1, len(names) + 1)]
    numbered = Flat(
        cols=[Col("scenario / default model"), *(Col(k, justify="center") for k in keys),
              Col("title", wrap=True)],
        rows=[[stacked(s.name, Text(s.model_for(DEFAULT_PROFILE), style="dim")),
               *(_mark(implemented[n], s.name) for n in names), s.title] for s in scenarios],
        title=MATRIX_TITLE,
        after=[_about(c, k) for k, c in zip(keys, contestants, strict=True)],
    )
    lines: list[RenderableType] = [Text(MATRIX_TITLE, style="bold")]
    for s in scenarios:
        line = Text()
        line.append(s.name, style="bold")
        line.append(f" ({s.model_for(DEFAULT_PROFILE)}): {s.title}")
        for n in names:
            line.append("  ")
            line.append_text(_mark(implemented[n], s.name))
            line.append(f" {n}")
        lines.append(line)
    lines += [_about(c) for c in contestants]
    return Fit(wide, numbered, Lines(lines))
