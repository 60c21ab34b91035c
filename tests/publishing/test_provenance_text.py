"""The package page states provenance values in words: a nested JSON object on one line read badly and ran past a
phone's width."""

from publishing.pages import readable


def test_nested_provenance_reads_as_words():
    review = {"changes": {"approved": 14, "proposed": 1}, "reviewers": ["migration-bot", "curator"]}

    assert readable(review) == "changes: approved: 14, proposed: 1; reviewers: migration-bot, curator"
    assert readable({"rows_read": 18, "built_from": "sources"}) == "built from: sources, rows read: 18"
    assert readable(["a.csv", {"id": 2}]) == "a.csv, id: 2"
    assert readable(None) == "" and readable(0) == "0"
