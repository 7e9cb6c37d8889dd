"""A notice's document (adapters/documents.py): every field, and nothing shared with the notice."""
from dataclasses import asdict

from services.notifications.adapters.documents import notice_from_doc, notice_to_doc
from services.notifications.domain.notice import Notice


def test_a_notice_maps_to_the_document_asdict_gave_and_back():
    n = Notice("n1", "学习通知", "正文", "study", {"org_ids": ["d1"], "member_ids": []}, require_ack=True,
               recipients=["m1", "m2"], addressed_on="2026-03-01", to_address=["b1"], addressed_by="c1")
    want = asdict(n)
    want["_id"] = want.pop("notice_id")
    assert notice_to_doc(n) == want
    assert notice_from_doc(notice_to_doc(n)) == n


def test_the_document_shares_no_list_or_dict_with_the_notice():
    n = Notice("n1", "t", "b", "study", {"org_ids": ["d1"]}, recipients=["m1"], to_address=["b1"])
    doc = notice_to_doc(n)
    n.recipients.append("m2")
    n.to_address.append("b2")
    n.audience["org_ids"].append("d2")
    assert (doc["recipients"], doc["to_address"], doc["audience"]) == (["m1"], ["b1"], {"org_ids": ["d1"]})
