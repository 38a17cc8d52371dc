"""decode_html: declared charsets honoured, wrong labels detected, never mojibake or U+FFFD."""

from __future__ import annotations

import pytest

from crawler.extract import decode_html, extract

FRENCH = (
    "<html><head><title>Été à Noël</title></head><body><p>L’été dernier, la député·e a présenté à l’Assemblée "
    "une réforme très attendue : « Ça déménage », a-t-elle déclaré à Noël. Œuvre, cœur, naïveté, où, è, ê, ç.</p>"
    "</body></html>"
)
MOJIBAKE = ("Ã©", "Ã¨", "â€™", "\ufffd")


def _clean(text: str) -> bool:
    return not any(bad in text for bad in MOJIBAKE)


def test_cp1252_bytes_labelled_utf8():
    decoded = decode_html(FRENCH.encode("cp1252"), "utf-8")
    assert decoded == FRENCH and _clean(decoded)


def test_cp1252_bytes_with_wrong_meta_charset():
    body = FRENCH.replace("<head>", '<head><meta charset="utf-8">').encode("cp1252")
    assert "L’été dernier" in decode_html(body, None)


@pytest.mark.parametrize("label", ["iso-8859-1", "latin-1", "windows-1252", "ascii"])
def test_utf8_bytes_labelled_single_byte(label):
    decoded = decode_html(FRENCH.encode("utf-8"), label)
    assert decoded == FRENCH and _clean(decoded)


def test_declared_single_byte_charset_honoured():
    text = "<p>Ça coûte 5 € à Noël, dit-il.</p>"
    assert decode_html(text.encode("iso-8859-15"), "iso-8859-15") == text


def test_meta_charset_honoured_without_header():
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head>'
            '<body>Привет, мир</body></html>')
    assert "Привет, мир" in decode_html(html.encode("cp1251"), None)


def test_utf8_page_with_a_stray_cp1252_byte():
    body = "<p>Déjà vu à Noël, l’été.</p>".encode() + b"<p>Caf\xe9 cr\xe8me</p>"
    decoded = decode_html(body, "utf-8")
    assert "Déjà vu à Noël, l’été." in decoded and "Café crème" in decoded and _clean(decoded)


def test_cyrillic_single_byte_labelled_utf8_is_detected():
    sentence = "Правительство России объявило о новых мерах поддержки экономики и малого бизнеса. "
    body = f"<html><body><p>{sentence * 8}</p></body></html>".encode("cp1251")
    assert sentence.strip() in decode_html(body, "utf-8")


def test_bom_wins():
    assert decode_html("\ufeff<p>été</p>".encode("utf-8"), "iso-8859-1") == "<p>été</p>"


def test_str_passes_through():
    assert decode_html("<p>déjà</p>") == "<p>déjà</p>"


def test_unknown_label_is_ignored():
    assert decode_html(FRENCH.encode("utf-8"), "x-no-such-charset") == FRENCH


def test_extract_decodes_mislabelled_page():
    paragraph = (
        "L’été dernier, le député a présenté à l’Assemblée nationale une réforme très attendue des retraites, "
        "que le gouvernement a finalement adoptée après des semaines de débats houleux et de négociations."
    )
    html = (f"<html><head><title>Réforme</title></head><body><article><p>{paragraph}</p><p>{paragraph}</p>"
            "</article></body></html>")
    article = extract(html.encode("cp1252"), "https://example.fr/a", encoding="utf-8")
    assert paragraph in article.text and _clean(article.text)
