"""Channel choice: preferred when it works, door for no phone, never door for the away."""
import pytest

from services.notifications.domain.channels import Reach, plan

pytestmark = pytest.mark.unit
PHONE, OPENID, EMAIL = "13912345678", "o-abc", "wang@example.cn"


@pytest.mark.parametrize("reach, expected", [
    (Reach(phone=PHONE, wechat_openid=OPENID, preferred="wechat"), ["wechat", "sms", "door"]),
    (Reach(phone=PHONE, email=EMAIL, preferred="email"), ["email", "sms", "door"]),
    (Reach(phone=PHONE, preferred="sms"), ["sms", "door"]),
    # preferred channel does not work for the member: no phone → door
    (Reach(preferred="sms"), ["door"]),
    (Reach(email=EMAIL, preferred="wechat"), ["door"]),
    # a working preferred email is used even without a phone, ending at the door
    (Reach(email=EMAIL, preferred="email"), ["email", "door"]),
    (Reach(phone=PHONE, preferred="phone_call"), ["phone_call"]),
    (Reach(phone=PHONE, preferred="door"), ["door"]),
])
def test_plan_at_home(reach, expected):
    assert plan(reach) == expected


@pytest.mark.parametrize("reach, expected", [
    (Reach(phone=PHONE, preferred="door", away=True), ["sms", "phone_call"]),
    (Reach(phone=PHONE, wechat_openid=OPENID, preferred="wechat", away=True), ["wechat", "sms", "phone_call"]),
    (Reach(email=EMAIL, preferred="door", away=True), ["email"]),
    (Reach(preferred="door", away=True), []),
])
def test_never_door_for_a_member_away(reach, expected):
    assert plan(reach) == expected
    assert "door" not in plan(reach)
