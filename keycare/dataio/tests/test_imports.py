"""Import and export: good files, bad rows (nothing changes), re-imports (no duplicates),
encodings (UTF-8, BOM, GBK), Chinese headers, XLSX, dry runs, formula neutralisation."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command

from keycare.accounts.models import Account, Contact, Equipment, Order, OrderLine, Product
from keycare.accounts.tests.factories import AccountFactory
from keycare.dataio.engine import run_import
from keycare.dataio.exports import export_to_file

pytestmark = pytest.mark.django_db

ACCOUNTS_ZH = [
    [
        "统一社会信用代码",
        "客户名称",
        "简称",
        "上级客户",
        "行业",
        "省份",
        "城市",
        "状态",
        "层级",
        "标签",
    ],
    [
        "914403001922038216",
        "华为技术有限公司",
        "华为",
        "",
        "电子制造",
        "广东省",
        "深圳",
        "活跃",
        "铂金",
        "战略,华南",
    ],
    [
        "9144030071526726XG",
        "深圳市腾讯计算机系统有限公司",
        "腾讯",
        "",
        "互联网",
        "广东省",
        "深圳",
        "active",
        "gold",
        "",
    ],
    [
        "91330100799655058B",
        "阿里巴巴（中国）有限公司",
        "阿里",
        "914403001922038216",
        "",
        "浙江省",
        "杭州",
        "潜在客户",
        "",
        "",
    ],
]
ACCOUNTS_EN = [
    [
        "Credit code",
        "Name",
        "Short name",
        "Parent account",
        "Industry",
        "Province",
        "City",
        "Status",
    ],
    ["914403001922038216", "华为技术有限公司", "华为", "", "电子制造", "广东省", "深圳", "Active"],
]


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def write_xlsx(path, rows):
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def accounts_state():
    return sorted(
        Account.objects.values_list(
            "credit_code", "name", "short_name", "parent__credit_code", "status", "tier"
        )
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_accounts_import_in_every_encoding(tmp_path, encoding):
    path = write_csv(tmp_path / "accounts.csv", ACCOUNTS_ZH, encoding)
    outcome = run_import(kind="accounts", path=path)
    assert outcome.ok, outcome.errors
    assert (outcome.rows, outcome.created, outcome.updated) == (3, 3, 0)
    assert accounts_state() == [
        (
            "91330100799655058B",
            "阿里巴巴（中国）有限公司",
            "阿里",
            "914403001922038216",
            "prospect",
            "",
        ),
        ("914403001922038216", "华为技术有限公司", "华为", None, "active", "platinum"),
        ("9144030071526726XG", "深圳市腾讯计算机系统有限公司", "腾讯", None, "active", "gold"),
    ]
    huawei = Account.objects.get(short_name="华为")
    assert sorted(huawei.tags.values_list("name", flat=True)) == ["华南", "战略"]
    ali = Account.objects.get(short_name="阿里")
    assert ali.path == f"/{huawei.pk}/{ali.pk}/"
    assert "zgdx" not in ali.search_text and "alibaba" in ali.search_text


def test_reimport_changes_nothing_and_creates_no_duplicates(tmp_path):
    path = write_csv(tmp_path / "accounts.csv", ACCOUNTS_ZH)
    run_import(kind="accounts", path=path)
    before = accounts_state()
    history = Account.history.count()
    again = run_import(kind="accounts", path=path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert accounts_state() == before
    assert Account.history.count() == history
    # English headers, same data, one changed field: an update, not a new account
    rows = [ACCOUNTS_EN[0], [*ACCOUNTS_EN[1][:2], "华为技术", *ACCOUNTS_EN[1][3:]]]
    changed = run_import(kind="accounts", path=write_csv(tmp_path / "en.csv", rows))
    assert (changed.created, changed.updated) == (0, 1)
    assert Account.objects.count() == 3
    assert Account.objects.get(credit_code="914403001922038216").short_name == "华为技术"


def test_bad_rows_are_reported_and_nothing_changes(tmp_path):
    AccountFactory(name="已有客户")
    before = accounts_state()
    rows = [
        ACCOUNTS_ZH[0],
        ACCOUNTS_ZH[1],
        ["914403001922038217", "坏代码公司", "", "", "", "", "", "", "", ""],
        ["", "", "无名", "", "", "", "", "", "", ""],
        ["", "状态错公司", "", "不存在的集团", "", "", "", "暂停", "", ""],
        ACCOUNTS_ZH[1],
    ]
    outcome = run_import(kind="accounts", path=write_csv(tmp_path / "bad.csv", rows))
    assert not outcome.ok
    assert accounts_state() == before
    found = {(e.row, e.column) for e in outcome.errors}
    assert found == {
        (3, "统一社会信用代码"),
        (4, "客户名称"),
        (5, "状态"),
        (5, "上级客户"),
        (6, "统一社会信用代码"),
    }
    by_row = {(e.row, e.column): e.message for e in outcome.errors}
    assert "check character" in by_row[(3, "统一社会信用代码")]
    assert by_row[(4, "客户名称")] == "This column is required."
    assert "row 2" in by_row[(6, "统一社会信用代码")]
    assert outcome.rejected_rows == {3, 4, 5, 6}
    assert outcome.message.startswith("4 of 5 rows have errors; nothing was changed")


def test_dry_run_counts_exactly_and_changes_nothing(tmp_path):
    path = write_csv(tmp_path / "accounts.csv", ACCOUNTS_ZH)
    dry = run_import(kind="accounts", path=path, dry_run=True)
    assert dry.ok and (dry.created, dry.updated) == (3, 0)
    assert Account.objects.count() == 0
    assert "Dry run" in dry.message


def test_missing_required_column_is_a_clear_error(tmp_path):
    outcome = run_import(kind="accounts", path=write_csv(tmp_path / "a.csv", [["简称"], ["华为"]]))
    assert outcome.failed
    assert outcome.message == "Missing required column(s): Name / 客户名称."


def test_xlsx_import(tmp_path):
    path = write_xlsx(tmp_path / "accounts.xlsx", ACCOUNTS_ZH)
    outcome = run_import(kind="accounts", path=path)
    assert outcome.ok and outcome.created == 3


def test_contacts_import_with_reports_to(tmp_path):
    AccountFactory(name="华为技术有限公司", credit_code="914403001922038216")
    rows = [
        ["客户", "姓名", "职务", "手机", "采购角色", "决策风格", "影响力", "直属上级", "在职"],
        ["914403001922038216", "张总", "总经理", "13800138000", "决策者", "领导型", "5", "", "是"],
        [
            "华为技术有限公司",
            "李工",
            "设备工程师",
            "+86 139 0013 9000",
            "coach",
            "checker",
            "3",
            "张总",
            "yes",
        ],
    ]
    outcome = run_import(kind="contacts", path=write_csv(tmp_path / "c.csv", rows))
    assert outcome.ok, outcome.errors
    li = Contact.objects.get(name="李工")
    assert (li.buying_role, li.decision_style, li.influence, li.reports_to.name) == (
        "coach",
        "checker",
        3,
        "张总",
    )
    assert li.mobile == "+8613900139000"
    again = run_import(kind="contacts", path=write_csv(tmp_path / "c.csv", rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    bad = [*rows, ["华为技术有限公司", "王五", "", "12345", "", "", "9", "不存在", ""]]
    outcome = run_import(kind="contacts", path=write_csv(tmp_path / "bad.csv", bad))
    assert {(e.row, e.column) for e in outcome.errors} == {(4, "手机"), (4, "影响力")}
    assert Contact.objects.count() == 2


def test_products_equipment_and_orders_import(tmp_path):
    AccountFactory(name="华为技术有限公司", credit_code="914403001922038216")
    products = [
        ["产品编码", "产品名称", "产品线", "目录价", "标准成本", "保修期（月）"],
        ["CNC-001", "立式加工中心", "数控机床", "680,000.00", "420000", "24"],
        ["SPR-001", "主轴轴承套件", "备件", "9800", "3900", "3"],
    ]
    assert run_import(kind="products", path=write_csv(tmp_path / "p.csv", products)).ok
    assert Product.objects.get(code="CNC-001").list_price == Decimal("680000.00")
    equipment = [
        ["序列号", "产品编码", "客户", "安装日期", "所属设备"],
        ["L-1", "CNC-001", "914403001922038216", "2025/03/01", ""],
        ["L-1-A", "CNC-001", "华为技术有限公司", "2025年3月2日", "L-1"],
    ]
    outcome = run_import(kind="equipment", path=write_csv(tmp_path / "e.csv", equipment))
    assert outcome.ok, outcome.errors
    unit = Equipment.objects.get(serial_number="L-1-A")
    assert str(unit.warranty_end) == "2027-03-02"
    assert unit.parent.serial_number == "L-1"
    orders = [
        ["订单号", "行号", "订单日期", "客户", "产品编码", "数量", "成交价", "行类型"],
        ["SO-1", "1", "2026-01-05", "914403001922038216", "CNC-001", "2", "650000", ""],
        ["SO-1", "2", "2026-01-05", "914403001922038216", "SPR-001", "10", "", "产品"],
        ["SO-1", "3", "2026-01-05", "914403001922038216", "", "1", "5000", "返利"],
        ["SO-2", "1", "2026-02-01", "华为技术有限公司", "SPR-001", "-1", "9800", "credit_note"],
    ]
    outcome = run_import(kind="orders", path=write_csv(tmp_path / "o.csv", orders))
    assert outcome.ok, outcome.errors
    so1 = Order.objects.get(number="SO-1")
    assert so1.line_count == 3
    # 2 × 680,000 + 10 × 9,800 list; 2 × 650,000 + 10 × 9,800 net; a 5,000 rebate on both
    assert so1.total_list == Decimal("1453000.00")
    assert so1.total_net == Decimal("1393000.00")
    assert so1.total_discount == Decimal("60000.00")
    assert so1.total_cost == Decimal("879000.00")
    assert Order.objects.get(number="SO-2").total_net == Decimal("-9800.00")
    again = run_import(kind="orders", path=write_csv(tmp_path / "o.csv", orders))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert OrderLine.objects.count() == 4


def test_order_import_errors_change_nothing(tmp_path):
    AccountFactory(name="华为技术有限公司", credit_code="914403001922038216")
    orders = [
        [
            "Order number",
            "Line number",
            "Order date",
            "Account",
            "Product code",
            "Quantity",
            "Net price",
        ],
        ["SO-9", "1", "2026-13-01", "914403001922038216", "", "1", "5"],
        ["SO-9", "1", "2026-01-01", "nobody", "NOPE", "0", "x"],
        ["SO-9", "2", "2026-01-01", "914403001922038216", "", "1", "5"],
    ]
    outcome = run_import(kind="orders", path=write_csv(tmp_path / "o.csv", orders))
    assert {(e.row, e.column) for e in outcome.errors} == {
        (2, "Order date"),
        (2, "Product code"),
        (3, "Account"),
        (3, "Product code"),
        (3, "Quantity"),
        (3, "Net price"),
        (4, "Product code"),
    }
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0


def test_undecodable_row_is_reported_with_its_number(tmp_path):
    path = tmp_path / "broken.csv"
    rest = "".join(f"甲{i}公司,甲{i}\n" for i in range(1, 30))  # plenty of valid UTF-8 around it
    path.write_bytes(
        "客户名称,简称\n甲0公司,甲0\n".encode() + b"\xe4\xb9\x99\xff\xfe,x\n" + rest.encode()
    )
    outcome = run_import(kind="accounts", path=path)
    assert outcome.failed
    assert outcome.errors[0].row == 3
    assert Account.objects.count() == 0


def test_export_neutralises_formulas_and_round_trips(tmp_path, admin_user):
    AccountFactory(
        name='=HYPERLINK("http://x")', short_name="+86", notes="@SUM(A1)", credit_code=""
    )
    AccountFactory(name="正常公司", short_name="-1", credit_code="914403001922038216")
    target = tmp_path / "out.csv"
    export_to_file(
        kind="accounts", fmt="csv", actor=admin_user, target=str(target), language="zh-hans"
    )
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["统一社会信用代码", "客户名称", "英文名称"]
    cells = {c for row in rows[1:] for c in row}
    assert (
        '\'=HYPERLINK("http://x")' in cells
        and "'+86" in cells
        and "'@SUM(A1)" in cells
        and "'-1" in cells
    )
    assert not any(c[:1] in "=+-@" for c in cells if c)
    before = accounts_state()
    outcome = run_import(kind="accounts", path=target)
    assert outcome.ok and outcome.created == 0 and outcome.updated == 0
    assert accounts_state() == before


def test_xlsx_export_of_orders(tmp_path, admin_user):
    from keycare.accounts.tests.factories import OrderFactory

    OrderFactory(number="SO-X")
    target = tmp_path / "orders.xlsx"
    _none, count = export_to_file(kind="orders", fmt="xlsx", actor=admin_user, target=str(target))
    assert count == 1
    sheet = openpyxl.load_workbook(target).active
    assert sheet.cell(1, 1).value == "Order number" and sheet.cell(2, 1).value == "SO-X"


def test_cli_import_and_export(tmp_path, capsys):
    path = write_csv(tmp_path / "accounts.csv", ACCOUNTS_ZH, "gbk")
    call_command("import", "accounts", str(path), "--dry-run", "--no-progress")
    assert Account.objects.count() == 0
    call_command("import", "accounts", str(path), "--no-progress")
    out = capsys.readouterr().out
    assert "3 rows imported: 3 created" in out and "Encoding: gb18030" in out
    bad = write_csv(tmp_path / "bad.csv", [["客户名称", "状态"], ["某公司", "坏"]])
    with pytest.raises(SystemExit) as exc:
        call_command("import", "accounts", str(bad), "--no-progress")
    assert exc.value.code == 1
    assert "row 2 [状态]" in capsys.readouterr().err
    target = tmp_path / "export.xlsx"
    call_command("export", "accounts", str(target))
    assert openpyxl.load_workbook(target).active.max_row == 4


def test_numbers_too_large_for_a_decimal_are_row_errors_not_crashes():
    from keycare.dataio.parsing import CellError, parse_decimal

    for text in ("1e400", "1" * 30, "123456789012345678901234567890.5"):
        with pytest.raises(CellError, match="too large"):
            parse_decimal(text)
    assert str(parse_decimal("12.3")) == "12.30"
