"""`diff`: what changed between revisions, by paragraph and by word."""

from archive.diff import diff_paragraphs, render, word_diff
from archive.store import ArticleFields, Page, save_article
from newsarchive.cli import main

V1 = "Le conseil municipal s'est réuni lundi.\nLe budget a été voté à l'unanimité.\nLa séance a duré deux heures."
V2 = ("Le conseil municipal s'est réuni lundi soir.\nLe budget a été voté à l'unanimité.\n"
      "La séance a duré deux heures.\nMise à jour : le maire a annoncé sa démission.")
V3 = V2.replace("Le budget a été voté à l'unanimité.\n", "")


def save(db, text):
    return save_article(db, Page(url="https://journal.test/conseil", status=200, headers=[], body=text.encode()),
                        ArticleFields(text=text, title="Conseil municipal"))


def test_paragraph_and_word_changes():
    lines = [line.render() for line in diff_paragraphs(V1, V2)]
    assert "+ Mise à jour : le maire a annoncé sa démission." in lines
    assert "~ Le conseil municipal s'est réuni [-lundi.-] {+lundi soir.+}" in lines
    assert word_diff("a b c", "a x c") == "a [-b-] {+x+} c"
    assert "(no change in the text)" in render("a", "a", old_label="1", new_label="2")


def test_diff_command_default_last_two_and_explicit_range(db, db_url, capsys):
    first = save(db, V1)
    save(db, V2)
    save(db, V3)
    assert main(["--db", db_url, "diff", str(first.article_id)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("--- revision 2 (") and "+++ revision 3 (" in out
    assert "- Le budget a été voté à l'unanimité." in out and "+ Mise à jour" not in out
    assert main(["--db", db_url, "diff", "https://journal.test/conseil?utm_source=x", "--from", "1", "--to", "2"]) == 0
    out = capsys.readouterr().out
    assert "+ Mise à jour : le maire a annoncé sa démission." in out
    assert "[-lundi.-] {+lundi soir.+}" in out
    assert main(["--db", db_url, "diff", str(first.article_id), "--from", "1", "--to", "9"]) == 1
    assert "no revision 9" in capsys.readouterr().err
    assert main(["--db", db_url, "diff", "https://nowhere.test/x"]) == 1
    assert "no archived article" in capsys.readouterr().err
