"""DESIGN invariant 7: every word a person reads is translatable.

`test_web.py` checks that what *is* marked was extracted and translated in every catalog;
this checks that nothing a person reads escaped the marking in the first place:

- templates (parsed with the app's Jinja environment): text between the tags, the
  attributes a person reads or hears (`title`, `alt`, `placeholder`, `aria-label`, the
  label of an `<input type="submit">` ...) and string literals printed with `{{ }}`;
- Python of the web surfaces (`grievance/web/`, `grievance/http/`, `intake/`), with `ast`:
  labels, hints and choices of WTForms fields, validator messages (and validators or
  choice fields that fall back on WTForms' own English text), `ValidationError`, `flash`, `abort`
  descriptions, `render_template` keywords, the text of a service's `InvalidInput` (its
  codes are for pages to translate) reaching an HTML page, and HTTP errors answered by
  Werkzeug's English pages instead of one of ours.

Known findings are listed in `ALLOWED`, each with its reason; an entry that no longer
matches anything fails too, so the list stays exact.
"""

from __future__ import annotations

import ast
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import jinja2
import pytest
from jinja2 import nodes
from werkzeug.http import HTTP_STATUS_CODES

from grievance import TEMPLATES, create_app
from grievance.config import PROJECT_ROOT, TEST_KDF, Settings
from grievance.crypto.keyring import Keyring
from grievance.extensions import db


@dataclass(frozen=True)
class Finding:
    file: str
    where: str
    text: str
    line: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.where}: {self.text!r}"


# -- what is known ----------------------------------------------------------------------------

NOT_RENDERED = (
    "not rendered: the template writes its own translated label and error text for this field"
)

FOLLOWUP = "intake/web/followup.py"

#: (file, where, text) -> why it may stay. Nothing else may be left unmarked.
ALLOWED: dict[tuple[str, str, str], str] = {
    # The registry's case page shows the verifier's command line: a command, not words.
    (
        "intake/web/registry.py",
        "case",
        "f'python docs/verify_case.py {base} {entry.reference}'",
    ): "a command line, the same in every language",
    # The follow-up sign-in form: followup_sign_in.html writes the label and, for any
    # error, "We do not know this code ..." itself; the label never reaches the page.
    (FOLLOWUP, "CodeForm.code", "code"): NOT_RENDERED,
    # followup_case.html writes the label of the message box itself.
    (FOLLOWUP, "MessageForm.body", "body"): NOT_RENDERED,
    # A brand name, written as the brand writes it in every language (marked lang="en").
    ("templates/public/index.html", "text", "WhatsApp"): "a brand name, not translated",
}


def has_letters(text: str) -> bool:
    return any(unicodedata.category(char).startswith("L") for char in text)


def _clean(text: str) -> str:
    return " ".join(text.replace(EXPRESSION, "{{…}}").split())


# -- templates --------------------------------------------------------------------------------

#: Stands for the value of an expression (`{{ … }}`) in the text of a template.
EXPRESSION = "\ue000"
#: Attributes whose value a person reads, or hears from a screen reader.
READ_ATTRIBUTES = frozenset(
    [
        "title",
        "alt",
        "placeholder",
        "aria-label",
        "aria-description",
        "aria-roledescription",
        "aria-placeholder",
        "aria-valuetext",
        "label",
    ]
)
#: `<input type=…>` whose `value` is the button's label.
BUTTON_INPUTS = frozenset({"submit", "reset", "button"})
NOT_SHOWN = frozenset({"script", "style"})


def _printed_literals(expression: nodes.Expr) -> list[str]:
    """The string constants an expression prints as they are: `{{ "Send" }}`,
    `{{ 'a' if x else 'b' }}`, `{{ "x" ~ y }}`; not the arguments of `_()` or a filter."""
    if isinstance(expression, nodes.Const):
        return [expression.value] if isinstance(expression.value, str) else []
    if isinstance(expression, nodes.CondExpr):
        otherwise = _printed_literals(expression.expr2) if expression.expr2 else []
        return _printed_literals(expression.expr1) + otherwise
    if isinstance(expression, nodes.Concat):
        return [text for part in expression.nodes for text in _printed_literals(part)]
    if isinstance(expression, nodes.Add | nodes.Or | nodes.And):
        return _printed_literals(expression.left) + _printed_literals(expression.right)
    if isinstance(expression, nodes.Mod):
        return _printed_literals(expression.left)
    if isinstance(expression, nodes.Filter) and expression.node is not None:
        return _printed_literals(expression.node)
    if isinstance(expression, nodes.MarkSafe | nodes.MarkSafeIfAutoescape):
        return _printed_literals(expression.expr)
    return []


class _Skeleton:
    """The HTML a template writes, its expressions replaced by a placeholder (and the
    literals they print), on the template's own lines."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.line = 1

    def add(self, text: str, line: int) -> None:
        if line > self.line:
            self.parts.append("\n" * (line - self.line))
            self.line = line
        self.parts.append(text)
        self.line += text.count("\n")

    def walk(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    self.add(child.data, child.lineno)
                else:
                    self.add(EXPRESSION + " ".join(_printed_literals(child)), child.lineno)
            return
        for inner in node.iter_child_nodes():
            self.walk(inner)


class _Reader(HTMLParser):
    def __init__(self, file: str) -> None:
        super().__init__(convert_charrefs=True)
        self.file = file
        self.findings: list[Finding] = []
        self.not_shown: str | None = None

    def _line(self, text: str = "") -> int:
        leading = text[: len(text) - len(text.lstrip())]
        return self.getpos()[0] + leading.count("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in NOT_SHOWN:
            self.not_shown = tag
        kind = (dict(attrs).get("type") or "").lower()
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and kind in BUTTON_INPUTS
            )
            if read and value and has_letters(value):
                self.findings.append(
                    Finding(self.file, f"<{tag} {name}>", _clean(value), self._line())
                )

    def handle_endtag(self, tag: str) -> None:
        if tag == self.not_shown:
            self.not_shown = None

    def handle_data(self, data: str) -> None:
        if self.not_shown is None and has_letters(data):
            self.findings.append(Finding(self.file, "text", _clean(data), self._line(data)))


def template_findings(environment: jinja2.Environment, source: str, name: str) -> list[Finding]:
    """What a template shows a person without `_()`, `{% trans %}` or an expression.
    (`{% trans %}` blocks and `{# comments #}` leave no `TemplateData` in the parse.)"""
    skeleton = _Skeleton()
    skeleton.walk(environment.parse(source, name=name))
    reader = _Reader(name)
    reader.feed("".join(skeleton.parts))
    reader.close()
    return reader.findings


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[jinja2.Environment]:
    """The app's own Jinja environment: its extensions (i18n) and its settings."""
    instance = tmp_path_factory.mktemp("strings")
    settings = Settings(
        env="test",
        secret_key="strings-test-secret-key-of-32-characters",
        database_url="sqlite://",
        public_base_url="http://localhost",
        instance_path=instance,
        kdf=TEST_KDF,
    )
    app = create_app(settings, keyring=Keyring.generate())
    assert "jinja2.ext.InternationalizationExtension" in app.jinja_env.extensions
    yield app.jinja_env
    with app.app_context():
        db.engine.dispose()


TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))


def all_template_findings(environment: jinja2.Environment) -> list[Finding]:
    findings = []
    for path in TEMPLATE_FILES:
        name = path.relative_to(PROJECT_ROOT).as_posix()
        findings += template_findings(environment, path.read_text(encoding="utf-8"), name)
    return findings


# -- Python -----------------------------------------------------------------------------------

#: The web surface: every module whose strings can reach a page.
PYTHON_FILES = sorted(
    path
    for folder in ("grievance/web", "grievance/http", "intake")
    for path in (PROJECT_ROOT / folder).rglob("*.py")
)
#: JSON for partner apps: its errors carry the field's path for the app to word them.
NOT_HTML = frozenset({"intake/api/__init__.py", "intake/api/partners.py"})

MARKERS = frozenset(
    [
        "_",
        "_l",
        "gettext",
        "lazy_gettext",
        "ngettext",
        "lazy_ngettext",
        "pgettext",
        "lazy_pgettext",
        "npgettext",
    ]
)
#: WTForms validators -> the position of their `message` argument.
VALIDATORS = {
    "DataRequired": 0,
    "InputRequired": 0,
    "Length": 2,
    "NumberRange": 2,
    "Email": 0,
    "EqualTo": 1,
    "Regexp": 2,
    "URL": 2,
    "AnyOf": 1,
    "NoneOf": 1,
    "IPAddress": 2,
    "MacAddress": 0,
    "UUID": 0,
}
#: Fields that refuse an answer outside their choices with WTForms' own message.
CHOICE_FIELDS = frozenset({"RadioField", "SelectField", "SelectMultipleField"})
#: The statuses the framework itself answers on the HTML surface (a stale CSRF token, an
#: unknown URL, a wrong method, a body too large, a rate limit, a crash).
FRAMEWORK_STATUSES = frozenset({400, 404, 405, 413, 429, 500})
HANDLED_BY_CLASS = {
    "BadRequest": {400},
    "CSRFError": {400},
    "NotFound": {404},
    "MethodNotAllowed": {405},
    "RequestEntityTooLarge": {413},
    "TooManyRequests": {429},
    "RateLimitExceeded": {429},
    "InternalServerError": {500},
    "HTTPException": set(HTTP_STATUS_CODES),
    "Exception": set(HTTP_STATUS_CODES),
}


def _called(function: ast.expr) -> str:
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return ""


def literal_text(node: ast.expr | None) -> str | None:
    """The words of a string literal that no gettext call marks, or None."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) and has_letters(node.value) else None
    if isinstance(node, ast.JoinedStr):
        words = "".join(
            part.value
            for part in node.values
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        )
        return ast.unparse(node) if has_letters(words) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        right = literal_text(node.right) if isinstance(node.op, ast.Add) else None
        return literal_text(node.left) or right
    if isinstance(node, ast.IfExp):
        return literal_text(node.body) or literal_text(node.orelse)
    if isinstance(node, ast.BoolOp):
        return next((text for value in node.values if (text := literal_text(value))), None)
    if isinstance(node, ast.Call):
        name = _called(node.func)
        if name in MARKERS:
            return None
        if name == "str" and node.args:
            return literal_text(node.args[0])
        if isinstance(node.func, ast.Attribute) and name in ("format", "join"):
            return literal_text(node.func.value)
    return None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position and not any(
        isinstance(argument, ast.Starred) for argument in call.args[: position + 1]
    ):
        return call.args[position]
    return _keyword(call, keyword)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _wtf(name: str) -> bool:
    """A WTForms field class by its name (`StringField`; pydantic's `Field` is not one)."""
    return name.endswith("Field") and name != "Field"


def _status(node: ast.expr) -> set[int]:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return {node.value}
    return set(HANDLED_BY_CLASS.get(_called(node), set()))


@dataclass
class Module:
    file: str
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]

    @classmethod
    def parse(cls, source: str, file: str) -> Module:
        tree = ast.parse(source, filename=file)
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        return cls(file, tree, parents)

    def where(self, node: ast.AST) -> str:
        """`Class.attribute` or `function` around a node."""
        names: list[str] = []
        current: ast.AST | None = node
        while current is not None:
            parent = self.parents.get(current)
            if isinstance(current, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                names.append(current.name)
            elif (
                isinstance(current, ast.Assign)
                and isinstance(parent, ast.ClassDef | ast.Module)
                and len(current.targets) == 1
                and isinstance(current.targets[0], ast.Name)
            ):
                names.append(current.targets[0].id)
            current = parent
        return ".".join(reversed(names)) or "(module)"

    def constant(self, name: str) -> ast.expr | None:
        """The value a module-level name is given (for `choices(YES_NO)`)."""
        for statement in self.tree.body:
            if (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and statement.targets[0].id == name
            ):
                return statement.value
        return None


class PythonChecker:
    def __init__(self, modules: list[Module]) -> None:
        self.modules = modules
        self.findings: list[Finding] = []
        self.field_classes: set[str] = set()
        self.choice_classes = set(CHOICE_FIELDS)
        self.translated_forms: set[str] = set()
        self._classes(modules)

    def _classes(self, modules: list[Module]) -> None:
        """Field classes (by name, and the modules' own subclasses), and forms whose
        `Meta.get_translations` gives WTForms' own messages our catalogs."""
        bases: dict[str, set[str]] = {}
        for module in modules:
            for node in ast.walk(module.tree):
                if isinstance(node, ast.ClassDef):
                    bases[node.name] = {_called(base) for base in node.bases}
                    for item in node.body:
                        if isinstance(item, ast.ClassDef) and item.name == "Meta":
                            defined = {s.name for s in item.body if isinstance(s, ast.FunctionDef)}
                            if "get_translations" in defined:
                                self.translated_forms.add(node.name)
        changed = True
        while changed:
            changed = False
            for name, parents in bases.items():
                for group in (self.field_classes, self.choice_classes, self.translated_forms):
                    if name not in group and (
                        parents & group or (group is self.field_classes and any(map(_wtf, parents)))
                    ):
                        group.add(name)
                        changed = True

    def _is_field(self, name: str) -> bool:
        return _wtf(name) or name in self.field_classes

    def add(self, module: Module, node: ast.AST, text: str) -> None:
        line = getattr(node, "lineno", 0)
        self.findings.append(Finding(module.file, module.where(node), text, line))

    def unmarked(self, module: Module, node: ast.expr | None) -> None:
        text = literal_text(node)
        if node is not None and text is not None:
            self.add(module, node, text)

    def check_choices(self, module: Module, node: ast.expr | None) -> None:
        if isinstance(node, ast.Name):
            node = module.constant(node.id)
        if isinstance(node, ast.List | ast.Tuple):
            for item in node.elts:
                if isinstance(item, ast.Tuple) and len(item.elts) >= 2:
                    self.unmarked(module, item.elts[1])

    def _form_of(self, module: Module, node: ast.AST) -> str:
        current = module.parents.get(node)
        while current is not None and not isinstance(current, ast.ClassDef):
            current = module.parents.get(current)
        return current.name if current is not None else ""

    def check_field(self, module: Module, call: ast.Call, name: str) -> None:
        self.unmarked(module, _argument(call, 0, "label"))
        self.unmarked(module, _argument(call, 3, "description"))
        self.check_choices(module, _keyword(call, "choices"))
        render = _keyword(call, "render_kw")
        if isinstance(render, ast.Dict):
            for key, value in zip(render.keys, render.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in READ_ATTRIBUTES:
                    self.unmarked(module, value)
        wtforms_translated = self._form_of(module, call) in self.translated_forms
        validators = _argument(call, 1, "validators")
        if isinstance(validators, ast.List | ast.Tuple):
            for validator in validators.elts:
                if not isinstance(validator, ast.Call):
                    continue
                position = VALIDATORS.get(_called(validator.func))
                if position is None:
                    continue  # Optional() and the like: no message
                message = _argument(validator, position, "message")
                if message is None and not wtforms_translated:
                    self.add(module, validator, ast.unparse(validator))
                self.unmarked(module, message)
        validate_choice = _keyword(call, "validate_choice")
        refuses = not (isinstance(validate_choice, ast.Constant) and validate_choice.value is False)
        if name in self.choice_classes and refuses and not wtforms_translated:
            self.add(module, call, f"{name}: Not a valid choice.")

    def check_call(self, module: Module, call: ast.Call) -> None:
        name = _called(call.func)
        if self._is_field(name):
            self.check_field(module, call, name)
        elif name in ("ValidationError", "StopValidation", "flash"):
            self.unmarked(module, _argument(call, 0, "message"))
        elif name == "abort":
            self.unmarked(module, _argument(call, 1, "description"))
        elif name == "render_template":
            for keyword in call.keywords:
                self.unmarked(module, keyword.value)
        elif name == "SelectChoice":
            self.unmarked(module, _argument(call, 1, "label"))
        elif name == "choices" and call.args:
            self.check_choices(module, call.args[0])

    def check_refusal(self, module: Module, handler: ast.ExceptHandler) -> None:
        """A service's `InvalidInput` carries codes (`refused.errors`, `refused.limits`),
        which a page translates (`grievance.http.refusals`); its own text (`str(refused)`,
        an f-string, `refused.args`) is for logs, never for a page."""
        if handler.type is None or _called(handler.type) != "InvalidInput" or not handler.name:
            return
        for statement in handler.body:
            for node in ast.walk(statement):
                if not (isinstance(node, ast.Name) and node.id == handler.name):
                    continue
                parent = module.parents.get(node)
                as_text = (
                    isinstance(parent, ast.FormattedValue)
                    or (isinstance(parent, ast.Attribute) and parent.attr == "args")
                    or (
                        isinstance(parent, ast.Call)
                        and _called(parent.func) in ("str", "repr", "format")
                    )
                )
                if as_text:
                    self.add(module, node, f"the texts of {handler.name} (InvalidInput)")

    def check_error_pages(self) -> None:
        handled: set[int] = set()
        wanted = dict.fromkeys(FRAMEWORK_STATUSES, "(framework)")
        for module in self.modules:
            html = module.file not in NOT_HTML
            for node in ast.walk(module.tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = _called(node.func)
                target = node.func.value if isinstance(node.func, ast.Attribute) else None
                app_wide = name == "app_errorhandler" or (
                    name in ("errorhandler", "register_error_handler")
                    and isinstance(target, ast.Name)
                    and target.id == "app"
                )
                if app_wide:
                    handled |= _status(node.args[0])
                if html and name == "abort" and _argument(node, 1, "description") is None:
                    for status in _status(node.args[0]):
                        wanted.setdefault(status, module.file)
        for status in sorted(set(wanted) - handled):
            self.findings.append(
                Finding("(error pages)", f"HTTP {status}", HTTP_STATUS_CODES[status])
            )

    def run(self) -> list[Finding]:
        for module in self.modules:
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    self.check_call(module, node)
                elif isinstance(node, ast.ExceptHandler) and module.file not in NOT_HTML:
                    self.check_refusal(module, node)
        self.check_error_pages()
        return self.findings


def python_findings(sources: Iterable[tuple[str, str]]) -> list[Finding]:
    """`sources`: (file, source) pairs, checked together (field subclasses, handlers)."""
    return PythonChecker([Module.parse(source, file) for file, source in sources]).run()


def project_python_findings() -> list[Finding]:
    return python_findings(
        (path.relative_to(PROJECT_ROOT).as_posix(), path.read_text(encoding="utf-8"))
        for path in PYTHON_FILES
    )


# -- the tests --------------------------------------------------------------------------------


def _unexplained(findings: Iterable[Finding]) -> list[str]:
    return [str(f) for f in findings if (f.file, f.where, f.text) not in ALLOWED]


def test_the_checks_read_the_real_files() -> None:
    names = {path.relative_to(PROJECT_ROOT).as_posix() for path in TEMPLATE_FILES}
    assert {"templates/base.html", "templates/intake/complaint.html"} <= names
    files = {path.relative_to(PROJECT_ROOT).as_posix() for path in PYTHON_FILES}
    assert {"grievance/http/forms.py", "intake/web/followup.py", "intake/web/public.py"} <= files


def test_every_word_of_the_templates_is_marked(environment: jinja2.Environment) -> None:
    unexplained = _unexplained(all_template_findings(environment))
    assert unexplained == [], "mark with {{ _(...) }} or {% trans %}:\n" + "\n".join(unexplained)


def test_every_word_of_the_web_code_is_marked() -> None:
    unexplained = _unexplained(project_python_findings())
    assert unexplained == [], "mark with _l()/gettext():\n" + "\n".join(unexplained)


def test_every_allowed_finding_still_exists(environment: jinja2.Environment) -> None:
    """An entry of ALLOWED that matches nothing any more is removed, not kept."""
    found = {
        (f.file, f.where, f.text)
        for f in [*all_template_findings(environment), *project_python_findings()]
    }
    assert sorted(set(ALLOWED) - found) == []


# -- the checks catch what they should ----------------------------------------------------------

SYNTHETIC_TEMPLATE = """{% extends "base.html" %}
{% block content %}
<h1>{{ _("Marked") }}</h1>
<p>
  Unmarked words</p>
{% trans count=3 %}One file{% pluralize %}{{ count }} files{% endtrans %}
<img src="x.png" alt="A picture"><input type="submit" value="Send it">
<input type="hidden" name="mechanism" value="TEX"><input type="text" placeholder="Your name">
<span title="{{ _('marked') }}" class="{{ 'mine' if mine else 'theirs' }}">{{ "Printed" }}</span>
<p dir="ltr">{{ reference }} – {{ count }}, 42 % ✓</p>
<nav aria-label="Languages">&nbsp;&rarr;</nav>
<!-- an HTML comment in words -->{# a Jinja comment #}
<style>body { font-family: sans-serif }</style>
{% endblock %}
"""


def test_the_template_check_finds_unmarked_words(environment: jinja2.Environment) -> None:
    found = template_findings(environment, SYNTHETIC_TEMPLATE, "synthetic.html")
    assert [(f.where, f.text, f.line) for f in found] == [
        ("text", "Unmarked words", 5),
        ("<img alt>", "A picture", 7),
        ("<input value>", "Send it", 7),
        ("<input placeholder>", "Your name", 8),
        ("text", "{{…}}Printed", 9),
        ("<nav aria-label>", "Languages", 11),
    ]


def test_the_template_check_passes_marked_words(environment: jinja2.Environment) -> None:
    marked = (
        '<p title="{{ _("Help") }}">{{ _("Hello %(name)s", name=name) }}</p>'
        "{% trans %}Welcome {{ name }}{% endtrans %}"
        '<input type="submit" value="{{ _("Send") }}"> ({{ size }}, {{ when }})'
    )
    assert template_findings(environment, marked, "marked.html") == []


SYNTHETIC_MODULE = """
from flask import abort, flash, render_template
from flask_babel import gettext, lazy_gettext as _l
from wtforms import RadioField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

YES_NO = [("no", _l("No")), ("yes", "Yes")]

class Boxes(SelectMultipleField):
    pass

class Form(FlaskForm):
    name = StringField("Your name", validators=[Optional(), Length(max=9)])
    city = StringField(
        _l("City"),
        description="Where you live",
        validators=[DataRequired(message="Say where"), Length(max=9, message=_l("Shorter"))],
        render_kw={"placeholder": "Amsterdam", "class": "wide"},
    )
    urgent = RadioField(
        _l("Urgent?"), choices=choices(YES_NO), validators=[DataRequired(_l("Choose"))]
    )
    themes = Boxes(_l("Themes"), validate_choice=False)
    other = Boxes(_l("Others"))

    def validate_name(self, field):
        raise ValidationError("Not like that")

def view():
    flash("Saved")
    flash(gettext("Saved"))
    abort(403, description=f"No access for {who}")
    abort(410)
    try:
        file_case()
    except InvalidInput as refused:
        for name in refused.errors:
            mark(name, gettext("Please check this answer."))
        show(refused.errors["statement"], refused.limits)
        show(str(refused))
    return render_template("x.html", title="Hello", count=3, label=gettext("Hi"), mark="–")
"""


def test_the_python_check_finds_unmarked_strings() -> None:
    found = python_findings([("web/synthetic.py", SYNTHETIC_MODULE)])
    pages = {(f.where, f.text) for f in found if f.file == "(error pages)"}
    assert pages == {
        ("HTTP 400", "Bad Request"),  # the framework's own, with no handler of ours
        ("HTTP 404", "Not Found"),
        ("HTTP 405", "Method Not Allowed"),
        ("HTTP 410", "Gone"),  # abort(410) without a description or a page of ours
        ("HTTP 413", "Request Entity Too Large"),
        ("HTTP 429", "Too Many Requests"),
        ("HTTP 500", "Internal Server Error"),
    }
    assert sorted((f.where, f.text) for f in found if f.file != "(error pages)") == sorted(
        [
            ("YES_NO", "Yes"),  # a choice label, through choices(YES_NO)
            ("Form.name", "Your name"),
            ("Form.name", "Length(max=9)"),  # WTForms' own English message
            ("Form.city", "Where you live"),
            ("Form.city", "Say where"),
            ("Form.city", "Amsterdam"),
            ("Form.urgent", "RadioField: Not a valid choice."),
            ("Form.other", "Boxes: Not a valid choice."),
            ("Form.validate_name", "Not like that"),
            ("view", "Saved"),
            ("view", "f'No access for {who}'"),
            ("view", "the texts of refused (InvalidInput)"),
            ("view", "Hello"),
        ]
    )
    saved = SYNTHETIC_MODULE.splitlines().index('    flash("Saved")') + 1
    assert next(f for f in found if f.text == "Saved").line == saved


def test_the_python_check_passes_marked_strings_and_handled_errors() -> None:
    module = """
from flask_babel import lazy_gettext as _l
class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return TRANSLATIONS
    name = StringField(_l("Name"), validators=[Length(max=9)])
    kind = RadioField(_l("Kind"), choices=[("a", _l("A"))])

@blueprint.app_errorhandler(HTTPException)
def error_page(error):
    return render_template("error.html", status=error.code), error.code

def view():
    abort(404)
"""
    assert python_findings([("web/marked.py", module)]) == []
