"""The generated site in real headless Chromium (Debian's package), driven by Playwright.

Needs /usr/bin/chromium; `.ci/run` installs it. Screenshots go to tests/artifacts/ (not in git).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, SAMPLE_PROJECT, run_cli

from modelkit import Project

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (/usr/bin/chromium; apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site") / "shop"
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target"))
    for args in (("seed",), ("run",), ("docs", "generate")):
        result = run_cli(*args, cwd=root)
        assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Site:
    """A page on the generated site, recording console errors and any request that leaves file://."""

    def __init__(self, browser: Any, root: Path) -> None:
        self.url = (root / "target" / "index.html").as_uri()
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def open(self, hash_: str = "") -> Any:
        self.page.goto(self.url + hash_)
        self.page.wait_for_function("window.modelkitDocs && window.modelkitDocs.ready")
        return self.page

    def go(self, hash_: str) -> Any:
        self.page.evaluate("h => { location.hash = h; }", hash_)
        self.page.wait_for_timeout(50)
        return self.page

    def dag(self) -> dict:
        self.page.wait_for_function(
            "window.modelkitDocs.state.dag && window.modelkitDocs.state.dag.stats.drawnNodes > 0"
        )
        return self.page.evaluate("window.modelkitDocs.state.dag.stats")

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.fixture
def site(browser: Any, shop: Path) -> Iterator[Site]:
    found = Site(browser, shop)
    yield found
    found.page.close()


def test_every_page_opens_offline_without_console_errors(site: Site) -> None:
    page = site.open()
    assert page.locator("#main h1").inner_text() == "shop"
    for hash_ in (
        "#!/node/model.shop.customers",
        "#!/node/source.shop.shop_raw.orders",
        "#!/node/seed.shop.raw_orders",
        "#!/node/model.shop.int_order_payments",
        "#!/node/analysis.shop.revenue_by_month",
        "#!/graph",
        "#!/graph?select=%2Borders%2B",
        "#!/column/model.shop.orders/amount",
        "#!/node/model.shop.nope",
    ):
        site.go(hash_)
        assert page.locator("#main h1, #main canvas").count() > 0, hash_
    site.go("#!/graph?select=bogus%3Ax")
    assert "Unknown selection method 'bogus'" in page.locator(".gstatus").inner_text()
    site.go("#!/graph?select=%2Bcustomers&exclude=tag%3Araw")
    assert site.dag()["nodes"] == 8  # +customers is 9 nodes, one of them the seed tagged raw
    assert site.errors == []
    assert site.outside == []  # nothing loaded from the network


def test_search_finds_a_model_and_its_page_shows_columns_and_sql(site: Site) -> None:
    page = site.open()
    page.fill("#search", "customers")
    first = page.locator("#results .result").first
    first.wait_for()
    assert first.locator(".rname").inner_text() == "customers"
    first.click()
    page.wait_for_selector("section.node[data-id='model.shop.customers']")
    assert page.locator("#main h1").inner_text() == "customers"
    rows = page.locator("table.columns tbody tr")
    names = [rows.nth(i).locator("td.cname span").inner_text() for i in range(rows.count())]
    assert names == [
        "customer_id", "first_name", "last_name", "first_order", "most_recent_order", "number_of_orders",
        "lifetime_value",
    ]  # fmt: skip
    lifetime = page.locator("table.columns tr", has=page.locator("td.cname[data-column='lifetime_value']"))
    assert "DOUBLE" in lifetime.inner_text()
    assert "Total paid by the customer" in lifetime.inner_text()
    code = page.locator(".codebody pre.code")
    assert "{{ ref('orders') }}" in code.inner_text()
    assert page.locator(".codebody .t-kw").count() > 5  # highlighted
    page.click(".tabs button[data-tab='compiled']")
    assert '"shop"."main"."orders"' in page.locator(".codebody pre.code").inner_text()
    assert "8" in page.locator("dl.details").inner_text()  # row count from the catalog
    site.shot("node-customers")
    # a column name finds its model too
    page.fill("#search", "lifetime_value")
    page.locator("#results .result").first.wait_for()
    assert page.locator("#results .result").first.locator(".rname").inner_text() == "customers"
    assert site.errors == []


def test_the_tree_lists_every_node(site: Site, shop: Path) -> None:
    page = site.open()
    manifest = Project(shop).ls()
    expected = {item["unique_id"] for item in manifest} | {
        "source.shop.shop_raw.orders",
        "source.shop.shop_raw.payments",
    }
    listed = set(
        page.eval_on_selector_all("#tree li.leaf a", "els => els.map(a => decodeURIComponent(a.hash.slice(8)))")
    )
    assert listed == expected
    page.click("#sidetabs button[data-view='database']")
    assert page.locator("#tree .fold .flabel", has_text="(ephemeral: not in the database)").count() == 1
    assert page.locator("#tree li.leaf", has_text="stg_orders").count() == 1


def test_lineage_graph_draws_nodes_and_a_click_selects_one(site: Site) -> None:
    page = site.open("#!/graph")
    stats = site.dag()
    assert stats["nodes"] == 14 and stats["drawnNodes"] == 14 and stats["edges"] == 11
    # the canvas really has the nodes' colour stripes on it, not only the counters
    page.wait_for_timeout(100)
    coloured = page.evaluate(
        """() => {
          const c = window.modelkitDocs.state.dag.canvas, d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i + 2] > 150 && d[i] < 80) n++;  // model blue
          return n;
        }"""
    )
    assert coloured > 100
    # click where the graph drew `orders`
    point = page.evaluate(
        """() => {
          const dag = window.modelkitDocs.state.dag;
          const i = dag.nodes.findIndex(n => n.label === 'orders');
          const p = dag.layout.pos[i], r = dag.canvas.getBoundingClientRect();
          return {x: r.left + dag.tx + (p.x + 100) * dag.scale, y: r.top + dag.ty + (p.y + 15) * dag.scale};
        }"""
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector(".ginfo h3")
    assert page.locator(".ginfo h3").inner_text() == "orders"
    site.shot("lineage-graph")
    page.mouse.dblclick(point["x"], point["y"])
    page.wait_for_selector("section.node[data-id='model.shop.orders']")
    # focused on a node with one level each way
    site.go("#!/graph?select=" + "1%2Bstg_payments%2B1")
    stats = site.dag()
    assert stats["nodes"] == 4  # shop_raw.payments, stg_payments, int_order_payments, payments_ledger
    assert page.locator(".gfocus strong").inner_text() == "stg_payments"
    assert site.errors == []


SELECTORS = [
    "+orders", "orders+", "+customers", "1+stg_orders+1", "@stg_orders", "tag:mart", "tag:staging,config.materialized:view",
    "path:models/staging", "resource_type:seed", "source:shop_raw", "source:shop_raw.payments+", "stg_*",
    "shop.marts", "models/marts/orders.sql", "+customers,tag:staging", "stg_orders stg_payments",
]  # fmt: skip


def test_graph_selectors_select_what_modelkit_ls_selects(site: Site, shop: Path) -> None:
    page = site.open()
    project = Project(shop)
    graph_kinds = ("model", "seed", "snapshot", "source", "analysis")  # tests are not drawn in the graph

    def ls(select: list[str], exclude: list[str] = ()) -> list[str]:
        return sorted(item["unique_id"] for item in project.ls(select, exclude) if item["resource_type"] in graph_kinds)

    def drawn(ids: list[str]) -> list[str]:
        return sorted(i for i in ids if i.split(".", 1)[0] in graph_kinds)

    for selector in SELECTORS:
        assert drawn(page.evaluate("s => window.modelkitDocs.select(s)", selector)) == ls([selector]), selector
    chosen = page.evaluate("() => window.modelkitDocs.select('+customers', 'tag:raw')")
    assert drawn(chosen) == ls(["+customers"], ["tag:raw"])


def test_column_lineage_of_the_mart_models(site: Site) -> None:
    page = site.open("#!/node/model.shop.orders")
    for model in ("customers", "orders"):
        site.go(f"#!/node/model.shop.{model}")
        cells = page.locator("table.columns td.lincell")
        assert cells.count() >= 7
        for i in range(cells.count()):
            text = cells.nth(i).inner_text()
            assert text.strip() and "unresolved" not in text, (model, text)
    site.go("#!/node/model.shop.orders")
    amount = page.locator("table.columns tr", has=page.locator("td.cname[data-column='amount']"))
    assert "int_order_payments.total_amount" in amount.locator("td.lincell").inner_text()
    amount.locator("a.collink").click()
    page.wait_for_selector("section.columnpage")
    assert page.locator("#main h1").inner_text() == "orders.amount"
    upstream = page.locator(".relations > div").nth(0).inner_text()
    for hop in ("int_order_payments.total_amount", "stg_payments.amount", "shop_raw.payments.amount"):
        assert hop in upstream
    downstream = page.locator(".relations > div").nth(1).inner_text()
    assert "customers.lifetime_value" in downstream and "revenue_by_month.revenue" in downstream
    stats = site.dag()
    assert stats["nodes"] == 6 and stats["drawnNodes"] == 6
    site.shot("column-lineage")
    assert site.errors == []


MARKDOWN = [
    ("**bold** and _it_", "<p><strong>bold</strong> and <em>it</em></p>"),
    ("a `code_name` here", "<p>a <code>code_name</code> here</p>"),
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ("[docs](https://example.com)", '<p><a href="https://example.com" target="_blank" rel="noopener noreferrer">docs</a></p>'),
    ("[bad](javascript:alert(1))", "<p>bad</p>"),
    ("# Title\n\n- one\n- two", "<h3>Title</h3>\n<ul><li>one</li><li>two</li></ul>"),
    ("| a | b |\n|---|---|\n| 1 | 2 |", '<table class="md"><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>'),
]  # fmt: skip


def test_markdown_and_sql_highlighting(site: Site) -> None:
    page = site.open()
    for text, html in MARKDOWN:
        assert page.evaluate("t => window.modelkitDocs.markdown(t)", text) == html, text
    sql = page.evaluate("() => window.modelkitDocs.highlightSql(\"select 'a<b' -- note\\nfrom {{ ref('x') }}\")")
    assert '<span class="t-kw">select</span>' in sql
    assert '<span class="t-st">&#39;a&lt;b&#39;</span>' in sql
    assert '<span class="t-cm">-- note</span>' in sql
    assert '<span class="t-jj">{{ ref(&#39;x&#39;) }}</span>' in sql
