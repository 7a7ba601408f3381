"""InfluxQL's tokens, read one at a time: a `/` after =~ or !~ starts a regular expression,
elsewhere it divides. Durations (`1m`, `1700000000000ms`) are tokens of their own."""

import re
from dataclasses import dataclass
from datetime import timedelta

from roomtemp.influx.influxql.statements import InvalidQuery

DURATION_UNITS = {"ns": 0, "u": 1, "µ": 1, "us": 1, "ms": 1_000, "s": 1_000_000,
                  "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000,
                  "w": 604_800_000_000}  # fmt: skip
MAX_QUANTIFIERS = 3
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<duration>[0-9]+(?:ns|us|µ|u|ms|s|m|h|d|w)(?![A-Za-z0-9_]))
    | (?P<number>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)
    | (?P<identifier>[A-Za-z_][A-Za-z0-9_]*)
    | "(?P<quoted>(?:[^"\\]++|\\.)*+)"
    | '(?P<string>(?:[^'\\]++|\\.)*+)'
    | (?P<operator>=~|!~|!=|<>|<=|>=|::|[=<>(),;.*+\-/])
    )""",
    re.VERBOSE | re.DOTALL,
)
_REGEX = re.compile(r"\s*/((?:[^/\\\n]++|\\.)*+)/", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # duration, number, identifier, quoted, string, operator, regex, end
    text: str
    at: int


class Reader:
    """Tokens read on demand: a `/` after =~ or !~ starts a regular expression, elsewhere
    it divides."""

    def __init__(self, text: str) -> None:
        self.text, self.position = text, 0
        self.current = self._next()

    def _next(self, regex: bool = False) -> Token:
        if regex and (match := _REGEX.match(self.text, self.position)):
            self.position = match.end()
            return Token("regex", match[1].replace("\\/", "/"), match.start(1))
        match = _TOKEN.match(self.text, self.position)
        if match is None or match.end() == self.position:
            rest = self.text[self.position :].strip()
            if not rest:
                return Token("end", "", len(self.text))
            raise InvalidQuery(f"cannot read the query at {rest[:30]!r}")
        self.position = match.end()
        kind = match.lastgroup or "end"
        text = match[kind]
        if kind in ("quoted", "string"):
            text = _ESCAPE.sub(r"\1", text)
        return Token(kind, text, match.start(kind))

    def take(self) -> Token:
        token = self.current
        regex = token.kind == "operator" and token.text in ("=~", "!~")
        self.current = self._next(regex)
        return token

    def keyword(self, *words: str) -> bool:
        """Whether the next tokens are these words (any case); if so, they are taken."""
        if self.current.kind != "identifier" or self.current.text.upper() != words[0]:
            return False
        self.take()
        for word in words[1:]:
            self.expect_keyword(word)
        return True

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise InvalidQuery(f"expected {word} at {self.here()}")

    def operator(self, *texts: str) -> str | None:
        if self.current.kind == "operator" and self.current.text in texts:
            return self.take().text
        return None

    def expect(self, text: str) -> None:
        if self.operator(text) is None:
            raise InvalidQuery(f"expected {text!r} at {self.here()}")

    def name(self) -> str:
        """An identifier, quoted or not."""
        if self.current.kind in ("identifier", "quoted"):
            return self.take().text
        raise InvalidQuery(f"expected a name at {self.here()}")

    def integer(self) -> int:
        if self.current.kind == "number" and self.current.text.isdigit():
            return int(self.take().text)
        raise InvalidQuery(f"expected a whole number at {self.here()}")

    def here(self) -> str:
        return repr(self.current.text) if self.current.kind != "end" else "the end"


def pattern(reader: Reader) -> re.Pattern[str]:
    token = reader.take()
    if token.kind != "regex":
        raise InvalidQuery("expected a regular expression: /.../")
    try:
        compiled = re.compile(token.text)
    except re.error as error:
        raise InvalidQuery(f"invalid regular expression /{token.text}/: {error}") from None
    quantifiers = _quantifiers(token.text)
    if quantifiers is None or quantifiers > MAX_QUANTIFIERS:
        raise InvalidQuery(
            f"/{token.text}/ repeats a group that repeats or alternates, such as (a+)+ or"
            f" (a|b)*, or has more than {MAX_QUANTIFIERS} of *, + and {{}}: not supported, as"
            " it may take exponential (or a high power of) time; write [ab]* or a+"
        )
    return compiled


def _quantifiers(text: str) -> int | None:
    """How many of *, + and {} the pattern has; None when one follows a group holding a
    quantifier or an alternation. Python's backtracking engine may take exponential time to
    fail with the latter against a room id of 128 characters ((a+)+b: 1.2 s for 24), and the
    n-th power of its length with n quantifiers in a row (.*.*.*x), where InfluxDB's engine
    (Go's RE2) takes linear time: a user with the read scope must not hold a worker."""
    holds: list[bool] = []  # per open group: whether it holds a quantifier or an alternation
    after_risky_group = False
    quantifiers = 0
    index = 0
    while index < len(text):
        character = text[index]
        risky, after_risky_group = after_risky_group, False
        if character == "\\":
            index += 2
            continue
        if character == "[":  # a character class, to its closing bracket
            index += 2 if text[index + 1 : index + 2] in ("]", "^") else 1
            while index < len(text) and text[index] != "]":
                index += 2 if text[index] == "\\" else 1
        elif character == "(":
            holds.append(False)
            if text[index + 1 : index + 2] == "?":  # (?:, (?i), (?P<name>: no quantifier
                index += 1
        elif character == ")" and holds:
            after_risky_group = holds.pop()
            if holds and after_risky_group:
                holds[-1] = True
        elif character in "*+{":
            if risky:
                return None
            quantifiers += 1
            if holds:
                holds[-1] = True
        elif character in "?|" and holds:
            holds[-1] = True
        index += 1
    return quantifiers


def duration(reader: Reader) -> timedelta:
    token = reader.take()
    if token.kind != "duration":
        raise InvalidQuery(f"expected a duration such as 1m, not {token.text!r}")
    return duration_of(token.text)


def duration_of(text: str) -> timedelta:
    digits = text.rstrip("nsuµmhdw")
    unit = DURATION_UNITS[text[len(digits) :]]
    try:
        if unit == 0:
            return timedelta(microseconds=int(digits) // 1000)
        return timedelta(microseconds=int(digits) * unit)
    except OverflowError:
        raise InvalidQuery(f"{text} is out of range") from None
