"""The members service's collections of issue 13's branch records (items 3, 5, 6, 9), kept apart
from the ledger's (documents.py) so that each feature's documents stay its own.

- `branch_funds`: one per branch, its funds entries (domain/funds.py); `fund_entries`: one per
  `entry_id`, so a repeated entry id is caught across branches.
- `branch_grades`: one per branch, its yearly grades (domain/grading.py).
- `member_study`: one per member, their remote-study accounts and use per month (domain/study.py).
- `applicants`: one per person on the way into the Party, their stages (domain/activists.py).
"""
from dataclasses import asdict

from services.members.domain.activists import Applicant
from services.members.domain.funds import BranchFunds
from services.members.domain.grading import BranchGrades
from services.members.domain.study import MemberStudy
from shared.messaging.repository import Collection

BRANCH_FUNDS = "branch_funds"
FUND_ENTRIES = "fund_entries"
BRANCH_GRADES = "branch_grades"
MEMBER_STUDY = "member_study"
APPLICANTS = "applicants"


def funds_to_doc(f: BranchFunds) -> dict:
    d = asdict(f)
    d["_id"] = d.pop("branch_id")
    return d


def funds_from_doc(doc: dict) -> BranchFunds:
    return BranchFunds(branch_id=doc["_id"], entries=doc.get("entries", []))


FUNDS: Collection[BranchFunds] = Collection(BRANCH_FUNDS, funds_to_doc, funds_from_doc)


def grades_to_doc(g: BranchGrades) -> dict:
    return {"_id": g.branch_id, "grades": g.grades}


def grades_from_doc(doc: dict) -> BranchGrades:
    return BranchGrades(branch_id=doc["_id"], grades=doc.get("grades", []))


GRADES: Collection[BranchGrades] = Collection(BRANCH_GRADES, grades_to_doc, grades_from_doc)


def study_to_doc(x: MemberStudy) -> dict:
    return {"_id": x.member_id, "accounts": x.accounts, "use": x.use}


def study_from_doc(doc: dict) -> MemberStudy:
    return MemberStudy(member_id=doc["_id"], accounts=doc.get("accounts", []), use=doc.get("use", []))


STUDY: Collection[MemberStudy] = Collection(MEMBER_STUDY, study_to_doc, study_from_doc)


def applicant_to_doc(x: Applicant) -> dict:
    d = asdict(x)
    d["_id"] = d.pop("applicant_id")
    return d


def applicant_from_doc(doc: dict) -> Applicant:
    return Applicant(applicant_id=doc["_id"], **{k: v for k, v in doc.items() if k not in ("_id", "_v")})


APPLICANT: Collection[Applicant] = Collection(APPLICANTS, applicant_to_doc, applicant_from_doc)
