import codecs
import csv
import io
import tracemalloc
import zipfile
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import openpyxl
import pytest

from keycare.core.tabular import (
    ENCODING_SAMPLE_BYTES,
    Column,
    TabularError,
    TabularReader,
    TabularWriter,
    cell_text,
    detect_csv_encoding,
    detect_delimiter,
    detect_format,
    neutralise,
    normalise_header,
)

COLUMNS = [
    Column("name", ("Name", "name", "客户名称", "名称"), required=True),
    Column("credit_code", ("Credit code", "credit_code", "统一社会信用代码", "信用代码")),
    Column("city", ("City", "城市")),
]

CHINESE_CSV = (
    "客户名称,统一社会信用代码,城市\n"
    "北京星河科技有限公司,91110108MA01ABCD1X,北京\n"
    "上海浦江贸易有限公司,91310115MA1K2EFG3Y,上海\n"
)
CHINESE_ROWS = [
    (2, {"name": "北京星河科技有限公司", "credit_code": "91110108MA01ABCD1X", "city": "北京"}),
    (3, {"name": "上海浦江贸易有限公司", "credit_code": "91310115MA1K2EFG3Y", "city": "上海"}),
]


def read_all(path, columns=COLUMNS, **kwargs):
    with TabularReader(path, columns, **kwargs) as reader:
        return list(reader)


def write_bytes(tmp_path, data: bytes, name="upload.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "fmt"),
    [
        ("a.csv", "csv"),
        ("A.CSV", "csv"),
        ("export.txt", "csv"),
        ("客户.xlsx", "xlsx"),
        ("macro.XLSM", "xlsx"),
        ("/tmp/dir.with.dots/b.xlsx", "xlsx"),
    ],
)
def test_detect_format(filename, fmt):
    assert detect_format(filename) == fmt


@pytest.mark.parametrize("filename", ["old.xls", "doc.pdf", "no_extension"])
def test_detect_format_rejects_other_files(filename):
    with pytest.raises(TabularError) as info:
        detect_format(filename)
    assert info.value.row is None
    assert info.value.code == (
        "legacy_excel" if filename.endswith(".xls") else "unsupported_format"
    )


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        (b"", "utf-8"),
        (b"Name,City\n", "utf-8"),
        (codecs.BOM_UTF8 + "名称\n".encode(), "utf-8-sig"),
        ("名称\n".encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + "名称".encode("utf-16-be"), "utf-16"),
        ("名称,城市\n北京".encode(), "utf-8"),
        # The 1 MiB sample may cut a three-byte character in half.
        ("名称,城市\n北京".encode()[:-1], "utf-8"),
        ("名称,城市\n北京星河科技有限公司".encode("gbk"), "gb18030"),
        ("名称,城市\n😀".encode("gb18030"), "gb18030"),
    ],
)
def test_detect_csv_encoding(head, encoding):
    assert detect_csv_encoding(head) == encoding


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [
        ("a,b,c\n", ","),
        ("a;b;c\r\n", ";"),
        ("a\tb\tc", "\t"),
        ('"a;b;c",d\n', ","),
        ("single\n", ","),
        ("", ","),
    ],
)
def test_detect_delimiter(line, delimiter):
    assert detect_delimiter(line) == delimiter


# --- CSV reading -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_csv_encodings_read_identically(tmp_path, encoding, detected):
    path = write_bytes(tmp_path, CHINESE_CSV.encode(encoding))
    with TabularReader(path, COLUMNS) as reader:
        assert reader.encoding == detected
        assert reader.columns_found == {
            "name": "客户名称",
            "credit_code": "统一社会信用代码",
            "city": "城市",
        }
        assert list(reader) == CHINESE_ROWS
        assert reader.bytes_read() == reader.total_bytes() == path.stat().st_size
    assert reader.row_count_hint() is None


def test_gb18030_characters_outside_gbk(tmp_path):
    path = write_bytes(tmp_path, "名称,城市\n𠀀记😀,北京\n".encode("gb18030"))
    assert read_all(path) == [(2, {"name": "𠀀记😀", "city": "北京"})]


def test_utf16_tab_separated_unicode_text(tmp_path):
    # What Excel writes for "Unicode Text (*.txt)".
    text = CHINESE_CSV.replace(",", "\t").replace("\n", "\r\n")
    path = write_bytes(tmp_path, text.encode("utf-16"), name="export.txt")
    assert read_all(path) == CHINESE_ROWS


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimiters(tmp_path, delimiter):
    text = CHINESE_CSV.replace(",", delimiter)
    path = write_bytes(tmp_path, text.encode())
    assert read_all(path) == CHINESE_ROWS


def test_quoted_delimiters_do_not_confuse_detection(tmp_path):
    text = '"Name",City,"Note; with; semicolons"\n"Acme, Inc.",Bei;jing,x\n'
    path = write_bytes(tmp_path, text.encode())
    assert read_all(path) == [(2, {"name": "Acme, Inc.", "city": "Bei;jing"})]


@pytest.mark.parametrize(
    "header_line",
    [
        "Name,Credit code,City",
        "name,credit_code,city",
        "客户名称,统一社会信用代码,城市",
        "名称,信用代码,城市",
        "  NAME * ,credit CODE(必填),\ufeffCity",
        "名　称（必填）,＊信用代码,城 市",
        "*Name,Credit Code (required),CITY*",
    ],
)
def test_header_variants_map_to_the_same_keys(tmp_path, header_line):
    path = write_bytes(tmp_path, f"{header_line}\nAcme,9111,Beijing\n".encode())
    assert read_all(path) == [(2, {"name": "Acme", "credit_code": "9111", "city": "Beijing"})]


def test_normalise_header():
    assert normalise_header(" 信用代码 （必填） ") == "信用代码"
    assert normalise_header("\ufeffCredit Code*") == "creditcode"
    assert normalise_header("*") == "*"


def test_missing_required_column(tmp_path):
    path = write_bytes(tmp_path, b"Credit code,City\n9111,Beijing\n")
    with pytest.raises(TabularError) as info:
        read_all(path)
    assert str(info.value) == "Missing required column: Name (also accepted: name, 客户名称, 名称)"
    assert info.value.row is None
    assert info.value.code == "missing_column"
    assert info.value.params["columns"] == ["name"]


def test_several_missing_required_columns(tmp_path):
    columns = [*COLUMNS, Column("phone", ("Phone",), required=True)]
    path = write_bytes(tmp_path, b"City\nBeijing\n")
    with pytest.raises(TabularError, match=r"^Missing required columns: Name \(.*\); Phone$"):
        read_all(path, columns)


def test_unknown_and_blank_headers_are_reported_and_ignored(tmp_path):
    path = write_bytes(tmp_path, "备注,Name,,Fax\nnote,Acme,x,123\n".encode())
    with TabularReader(path, COLUMNS) as reader:
        assert reader.unknown_headers == ["备注", "Fax"]
        assert reader.columns_found == {"name": "Name"}
        # Only columns present in the file appear: absent means "leave the field alone".
        assert list(reader) == [(2, {"name": "Acme"})]


def test_duplicate_headers_for_one_key(tmp_path):
    path = write_bytes(tmp_path, "Name,City,名称\nA,B,C\n".encode())
    with pytest.raises(TabularError, match="appears twice") as info:
        read_all(path)
    assert info.value.code == "duplicate_column"


def test_conflicting_column_definitions_are_a_programming_error():
    with pytest.raises(ValueError, match="accepted by both"):
        TabularReader("x.csv", [Column("a", ("Name",)), Column("b", ("name ",))])


def test_undecodable_line_after_the_sample_reports_its_row(tmp_path):
    line = "北京星河科技有限公司,91110108MA01ABCD1X,北京\n".encode()
    good_rows = ENCODING_SAMPLE_BYTES // len(line) + 50  # well past the first MiB
    data = "名称,信用代码,城市\n".encode() + line * good_rows
    data += "乙公司,9131,上海\n".encode("gbk") + line
    path = write_bytes(tmp_path, data)
    with TabularReader(path, COLUMNS) as reader:
        assert reader.encoding == "utf-8"
        seen = 0
        with pytest.raises(TabularError) as info:
            for _number, _row in reader:
                seen += 1
    bad_row = good_rows + 2  # header is row 1
    assert seen == good_rows
    assert info.value.row == bad_row
    assert info.value.code == "encoding"
    assert str(info.value).startswith(f"Row {bad_row}: ")
    assert "UTF-8" in info.value.message


def test_undecodable_line_in_a_gbk_file(tmp_path):
    data = CHINESE_CSV.encode("gbk") + b"\x81\x20broken,x,y\n"
    path = write_bytes(tmp_path, data)
    with pytest.raises(TabularError) as info:
        read_all(path)
    assert info.value.row == 4


def test_empty_rows_are_skipped_and_row_numbers_follow_the_file(tmp_path):
    text = (
        "\n"  # row 1 blank: the header is the first non-blank row
        "Name,City\n"
        "A,Beijing\n"
        ",\n"
        "  ,  \n"
        '"B\nsecond line",Shanghai\n'  # one record over two physical lines
        "\n"
        "C\n"  # fewer cells than headers
        " D , \n"
    )
    path = write_bytes(tmp_path, text.encode())
    assert read_all(path) == [
        (3, {"name": "A", "city": "Beijing"}),
        (6, {"name": "B\nsecond line", "city": "Shanghai"}),
        (8, {"name": "C", "city": ""}),
        (9, {"name": "D", "city": ""}),
    ]


def test_extra_cells(tmp_path):
    path = write_bytes(tmp_path, b"Name,City\nA,B,,  \nC,D,,extra\n")
    with TabularReader(path, COLUMNS) as reader:
        rows = iter(reader)
        assert next(rows) == (2, {"name": "A", "city": "B"})
        with pytest.raises(TabularError, match="right of the last column header") as info:
            next(rows)
    assert info.value.row == 3


def test_empty_file(tmp_path):
    path = write_bytes(tmp_path, b"\n\n")
    with pytest.raises(TabularError, match="The file is empty"):
        read_all(path)


@pytest.mark.parametrize(
    "bad",
    [
        b'"C,D\nE,F\n',  # unclosed quote: would swallow the rest of the file
        b'"C"x,D\n',
        b'"' + b"x" * 200_000 + b'",D\n',  # beyond the csv module's field size limit
    ],
)
def test_malformed_csv_is_reported(tmp_path, bad):
    path = write_bytes(tmp_path, b"Name,City\nA,B\n" + bad)
    with TabularReader(path, COLUMNS) as reader:
        rows = iter(reader)
        assert next(rows) == (2, {"name": "A", "city": "B"})
        with pytest.raises(TabularError) as info:
            next(rows)
    assert info.value.row == 3
    assert info.value.code == "csv_syntax"


def test_reader_must_be_opened(tmp_path):
    path = write_bytes(tmp_path, b"Name\nA\n")
    with pytest.raises(RuntimeError):
        iter(TabularReader(path, COLUMNS))


def test_filename_decides_format_for_temporary_upload_paths(tmp_path):
    xlsx = tmp_path / "a.xlsx"
    with TabularWriter(xlsx, "xlsx", ["Name"]) as writer:
        writer.write(["Acme"])
    upload = tmp_path / "tmp3k2j1.upload"
    upload.write_bytes(xlsx.read_bytes())
    assert read_all(upload, filename="客户.xlsx") == [(2, {"name": "Acme"})]
    with pytest.raises(TabularError, match="not supported"):
        TabularReader(upload, COLUMNS)


def test_xlsx_saved_with_a_csv_name_is_read_as_xlsx(tmp_path):
    path = tmp_path / "renamed.csv"
    with TabularWriter(path.with_suffix(".xlsx"), "xlsx", ["Name"]) as writer:
        writer.write(["Acme"])
    path.write_bytes(path.with_suffix(".xlsx").read_bytes())
    with TabularReader(path, COLUMNS) as reader:
        assert reader.format == "xlsx"
        assert list(reader) == [(2, {"name": "Acme"})]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "97-2003"),
        (b"Name,City\nA,B\n", "could not be opened as an Excel workbook"),
    ],
)
def test_bad_xlsx(tmp_path, data, message):
    path = write_bytes(tmp_path, data, name="bad.xlsx")
    with pytest.raises(TabularError, match=message):
        read_all(path)


# --- XLSX --------------------------------------------------------------------------------


def test_xlsx_round_trip(tmp_path):
    path = tmp_path / "export.xlsx"
    headers = ["Name", "Qty", "Price", "Rate", "Day", "At", "Note", "Debt", "Active", "Time"]
    columns = [Column(h.lower(), (h,)) for h in headers]
    naive = datetime(2024, 5, 1, 8, 30, tzinfo=UTC).replace(tzinfo=None)  # Excel has no zones
    rows = [
        ["北京星河", 12, 12.5, 0.3, date(2024, 5, 1), naive, None, Decimal("-3.50"), True, None],
        ["=1+1", 0, 0.1 + 0.2, 1e-05, None, naive, "+86 138 0000 0000", -7, False, time(9, 15)],
        [None] * 10,  # skipped on read
        ["Acme", 10**17, None, None, None, None, "  padded  ", None, None, None],
    ]
    with TabularWriter(path, "xlsx", headers) as writer:
        for row in rows:
            writer.write(row)

    # The workbook holds real numbers and dates, and no formula.
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet["A3"].value == "'=1+1"
    assert sheet["A3"].data_type == "s"
    assert sheet["B2"].value == 12
    assert sheet["B5"].value == "100000000000000000"  # too long for Excel's 15 digits

    with TabularReader(path, columns) as reader:
        assert reader.encoding is None
        assert reader.bytes_read() is None
        assert reader.row_count_hint() is None  # write-only workbooks store no <dimension>
        result = list(reader)
    assert result == [
        (
            2,
            {
                "name": "北京星河",
                "qty": "12",
                "price": "12.5",
                "rate": "0.3",
                "day": "2024-05-01",
                "at": "2024-05-01 08:30:00",
                "note": "",
                "debt": "-3.5",
                "active": "TRUE",
                "time": "",
            },
        ),
        (
            3,
            {
                "name": "=1+1",
                "qty": "0",
                "price": "0.3",
                "rate": "0.00001",
                "day": "",
                "at": "2024-05-01 08:30:00",
                "note": "+86 138 0000 0000",
                "debt": "-7",
                "active": "FALSE",
                "time": "09:15:00",
            },
        ),
        (
            5,
            {
                "name": "Acme",
                "qty": "100000000000000000",
                "price": "",
                "rate": "",
                "day": "",
                "at": "",
                "note": "padded",
                "debt": "",
                "active": "",
                "time": "",
            },
        ),
    ]


def test_xlsx_gaps_wrong_dimension_and_first_sheet(tmp_path):
    path = tmp_path / "sheet.xlsx"
    workbook = openpyxl.Workbook()
    first = workbook.active
    first["A2"] = "名称"  # row 1 left blank
    first["B2"] = "城市"
    first["A3"] = "甲"
    first["A6"] = "乙"
    first["B6"] = 100
    workbook.create_sheet("Other")["A1"] = "ignored"
    workbook.save(path)
    # Simulate a writer that stores a wrong <dimension>.
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"]
    assert b'<dimension ref="A2:B6"' in sheet_xml
    parts["xl/worksheets/sheet1.xml"] = sheet_xml.replace(b'ref="A2:B6"', b'ref="A1:B3"')
    with zipfile.ZipFile(path, "w") as dst:
        for name, data in parts.items():
            dst.writestr(name, data)

    with TabularReader(path, COLUMNS) as reader:
        assert reader.row_count_hint() == 2  # from the (wrong) dimension: only a hint
        assert list(reader) == [(3, {"name": "甲", "city": ""}), (6, {"name": "乙", "city": "100"})]


# --- export ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138 0000 0000", "'+86 138 0000 0000"),
        ("-x", "'-x"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("北京星河科技", "北京星河科技"),
        ("a=b", "a=b"),
        ("", ""),
        (Decimal("-3.5"), Decimal("-3.5")),
        (-7, -7),
        (-0.5, -0.5),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    result = neutralise(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (12, "12"),
        (12.0, "12"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (1e-05, "0.00001"),
        (-0.0, "0"),
        (Decimal("-3.50"), "-3.50"),
        (Decimal("1E+2"), "100"),
        (True, "TRUE"),
        (date(2024, 5, 1), "2024-05-01"),
        (datetime(2024, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=8))), "2024-05-01 08:30:00"),
        (time(9, 15, 30), "09:15:30"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_csv_export_is_utf8_with_bom_and_neutralised(tmp_path):
    path = tmp_path / "export.csv"
    with TabularWriter(path, "csv", ["名称", "电话", "余额", "备注"]) as writer:
        writer.write(["北京星河", "+86 138 0000 0000", Decimal("-12.50"), "=HYPERLINK(1)"])
        writer.write(["-x", "@SUM", -3, None])
        writer.write([0.1 + 0.2, date(2024, 5, 1), True, "\t=1"])
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["名称", "电话", "余额", "备注"],
        ["北京星河", "'+86 138 0000 0000", "-12.50", "'=HYPERLINK(1)"],
        ["'-x", "'@SUM", "-3", ""],
        ["0.3", "2024-05-01", "TRUE", "'\t=1"],
    ]

    # Read back through the importer side: the apostrophes are undone.
    columns = [
        Column("name", ("名称",)),
        Column("phone", ("电话",)),
        Column("balance", ("余额",)),
        Column("note", ("备注",)),
    ]
    assert [row for _n, row in read_all(path, columns)] == [
        {
            "name": "北京星河",
            "phone": "+86 138 0000 0000",
            "balance": "-12.50",
            "note": "=HYPERLINK(1)",
        },
        {"name": "-x", "phone": "@SUM", "balance": "-3", "note": ""},
        {"name": "0.3", "phone": "2024-05-01", "balance": "TRUE", "note": "=1"},
    ]
    raw = read_all(path, columns, unescape_formulas=False)
    assert raw[0][1]["phone"] == "'+86 138 0000 0000"


def test_writer_accepts_binary_and_text_streams():
    binary = io.BytesIO()
    with TabularWriter(binary, "csv", ["A"]) as writer:
        writer.write(["=x"])
    assert binary.getvalue() == codecs.BOM_UTF8 + b"A\r\n'=x\r\n"

    text = io.StringIO()
    with TabularWriter(text, "csv", ["A"]) as writer:
        writer.write([1])
    assert text.getvalue() == "A\r\n1\r\n"

    class Response:  # write(bytes) only, like Django's HttpResponse
        def __init__(self):
            self.chunks = []

        def write(self, data):
            self.chunks.append(data)

    response = Response()
    with TabularWriter(response, "csv", ["名称"]) as writer:
        writer.write(["@x"])
    assert b"".join(response.chunks).decode("utf-8-sig") == "名称\r\n'@x\r\n"

    workbook = io.BytesIO()
    with TabularWriter(workbook, "xlsx", ["A"]) as writer:
        writer.write(["x\x00y"])  # control characters XML cannot hold are dropped
    workbook.seek(0)
    assert openpyxl.load_workbook(workbook).worksheets[0]["A2"].value == "xy"


def test_writer_checks_row_width_and_format(tmp_path):
    with pytest.raises(ValueError, match="Unknown format"):
        TabularWriter(tmp_path / "x.ods", "ods", ["A"])
    with TabularWriter(tmp_path / "x.csv", "csv", ["A", "B"]) as writer:
        with pytest.raises(ValueError, match="Expected 2 cells"):
            writer.write(["only one"])
        assert writer.rows_written == 0


# --- streaming ---------------------------------------------------------------------------


COLUMN_KEYS = ["name", "credit_code", "city"]


def big_row(i):
    return [f"客户{i}号有限公司", f"9111{i:014d}", "北京"]


def traced_peak(work):
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_200k_rows_stream_in_bounded_memory(tmp_path):
    # tracemalloc makes every allocation ~10x slower, so it watches the whole import (what
    # runs on 1M-row uploads) and a slice of the export, which is enough to catch rows piling up.
    path = tmp_path / "big.csv"
    rows, traced_rows = 200_000, 20_000
    with TabularWriter(path, "csv", ["名称", "信用代码", "城市"]) as writer:

        def write(start, stop):
            for i in range(start, stop):
                writer.write(big_row(i))

        write_peak = traced_peak(lambda: write(0, traced_rows))
        write(traced_rows, rows)
    assert path.stat().st_size > 10_000_000  # bigger than the memory budget below

    seen = {"count": 0, "last": None}

    def read():
        with TabularReader(path, COLUMNS) as reader:
            for item in reader:
                seen["count"] += 1
                seen["last"] = item
            assert reader.bytes_read() == reader.total_bytes()

    read_peak = traced_peak(read)
    assert seen["count"] == rows
    assert seen["last"] == (rows + 1, dict(zip(COLUMN_KEYS, big_row(rows - 1), strict=True)))
    assert read_peak < 20 * 1024 * 1024, f"read peak {read_peak / 1e6:.1f} MB"
    assert write_peak < 1024 * 1024, f"write peak {write_peak / 1e6:.1f} MB"
