"""The district the simulator plays: its organisation tree and its members, with their year's facts.

Everything is drawn from the seed. Each member gets an own random stream (seeded by seed and
index), so a member's facts do not depend on how many others there are. Facts that the year
replays (away spells, death, dues habits, volunteer team) are decided here, once; the commands of
the year (`simulator.year`) and the figures the simulator intends (`simulator.tally`) both read them.
"""
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from simulator import vocab
from simulator.ids import Ids

REPORT_SIZE = 300  # members at the report's size: the eight branches of X区
MIN_MEMBERS = 30
MEMBERS_PER_EXTRA_BRANCH = 45
COMMITTEE_THRESHOLD = 7  # domain.md: 7 or more members elect a committee
GROUP_THRESHOLD = 20  # large branches are divided into party groups
# The report's realistic gaps, each in one named branch.
NO_SECRETARY, TOO_SMALL, SKIPS_COMMITTEE = "欧美亚", "北岸明珠", "世茂滨江"
# Relative sizes of the report's branches (the too-small one has 2 members whatever the scale).
REPORT_WEIGHTS = {"天鹅湖": 1.3, "怡园": 1.0, "欧美亚": 0.8, "军安": 0.9, "世茂滨江": 1.5, "世纪花园": 1.0,
                  "宜和园": 0.8}


@dataclass
class Org:
    org_id: str
    name: str
    kind: str
    parent_id: str | None


@dataclass
class Specialist:
    specialist_id: str
    name: str
    phone: str


@dataclass
class Branch:
    org_id: str
    name: str
    short: str  # the community's name, e.g. 天鹅湖
    community_id: str
    subdistrict_id: str
    venue_id: str
    size: int
    specialists: list[Specialist]
    gaps: tuple[str, ...] = ()
    secretary_id: str | None = None
    member_ids: list[str] = field(default_factory=list)

    @property
    def has_committee(self) -> bool:
        return self.size >= COMMITTEE_THRESHOLD

    @property
    def party_groups(self) -> int:
        return self.size // 12 if self.size >= GROUP_THRESHOLD else 0


@dataclass(frozen=True)
class Away:
    start: date
    until: date | None  # the planned return, as told when leaving
    returned: date | None  # the actual return within the simulated year, if any
    location: str
    reason: str


@dataclass
class Member:
    member_id: str
    index: int
    branch_id: str
    name: str
    gender: str
    birth_date: date
    joined_party_on: date
    retired_on: date
    registered_on: date
    former_unit: str
    former_rank: str
    phone: str | None
    wechat_openid: str | None
    email: str | None
    preferred_channel: str
    lives_alone: bool
    health: str
    specialties: list[str]
    service_needs: list[str]
    monthly_pension: Decimal
    specialist: Specialist
    group: int  # party group number (1-based), 0 when the branch has none
    away: list[Away] = field(default_factory=list)
    exempt_from: date | None = None
    died_on: date | None = None
    transferred_on: date | None = None
    destination: str | None = None
    disengaged: bool = False  # neither attends nor pays this year: the alerts must find them
    paid_through: int | None = None  # pays until this month of the year, then falls into arrears
    dues_scheme: str = "monthly"  # monthly · quarterly · half_year · winter
    team: str | None = None
    neglected: bool = False  # the specialist stops visiting: "not visited" must show

    @property
    def winters_away(self) -> bool:
        return self.dues_scheme == "winter"

    def registered(self, day: date) -> bool:
        """The contract's `registered` on a day: registered by then, not dead, not transferred."""
        return (self.registered_on <= day and (self.died_on is None or day < self.died_on)
                and (self.transferred_on is None or day < self.transferred_on))

    def away_on(self, day: date) -> bool:
        return any(a.start <= day and (a.returned is None or day < a.returned) for a in self.away)

    def exempt_on(self, day: date) -> bool:
        return self.exempt_from is not None and self.exempt_from <= day


@dataclass
class World:
    seed: int
    year: int
    ids: Ids
    district: Org
    subdistricts: list[Org]
    communities: list[Org]
    branches: list[Branch]
    members: list[Member]
    district_venue_id: str
    # The branches' committees and the secretaries' training (simulator/leadership.py).
    leadership: object = None

    def branch(self, branch_id: str) -> Branch:
        return self._branches[branch_id]

    def member(self, member_id: str) -> Member:
        return self._members[member_id]

    def __post_init__(self) -> None:
        self._branches = {b.org_id: b for b in self.branches}
        self._members = {m.member_id: m for m in self.members}


def build(seed: int, members: int = REPORT_SIZE, year: int = 2025) -> World:
    if members < MIN_MEMBERS:
        raise ValueError(f"a district needs at least {MIN_MEMBERS} members")
    ids = Ids(seed)
    district = Org(ids.of("d", "district"), vocab.DISTRICT_NAME, "district", None)
    n_branches = max(len(vocab.REPORT_COMMUNITIES), math.ceil(members / MEMBERS_PER_EXTRA_BRANCH))
    n_subs = min(len(vocab.SUBDISTRICTS), max(4, math.ceil(n_branches / 6)))
    subs = [Org(ids.of("s", str(i)), name, kind, district.org_id)
            for i, (name, kind) in enumerate(vocab.SUBDISTRICTS[:n_subs])]
    places = list(vocab.REPORT_COMMUNITIES)
    for i in range(n_branches - len(places)):
        base = vocab.MORE_COMMUNITIES[i % len(vocab.MORE_COMMUNITIES)]
        round_ = i // len(vocab.MORE_COMMUNITIES)
        places.append((base if round_ == 0 else f"{base}{round_ + 1}", (4 + i) % n_subs))
    sizes = _sizes([p for p, _ in places], members, random.Random(f"{seed}/sizes"))
    communities, branches = [], []
    for i, (short, sub) in enumerate(places):
        community = Org(ids.of("c", str(i)), f"{short}社区", "community", subs[sub].org_id)
        communities.append(community)
        gaps = tuple(g for g, name in (("no_secretary", NO_SECRETARY), ("too_small", TOO_SMALL),
                                       ("skips_committee", SKIPS_COMMITTEE)) if name == short)
        rng = random.Random(f"{seed}/branch/{i}")
        specialists = [Specialist(ids.of("sp", f"{i}/{k}"), rng.choice(vocab.SPECIALIST_NAMES), _mobile(rng))
                       for k in range(max(1, sizes[i] // 25 + 1))]
        branches.append(Branch(ids.of("b", str(i)), f"{short}社区退休党支部", short, community.org_id,
                               subs[sub].org_id, ids.of("v", str(i)), sizes[i], specialists, gaps))
    people: list[Member] = []
    for branch in branches:
        for k in range(branch.size):
            m = _member(seed, ids, len(people), branch, k, year)
            people.append(m)
            branch.member_ids.append(m.member_id)
    by_id = {m.member_id: m for m in people}
    _long_stay(people, branches, year)
    for branch in branches:
        if "no_secretary" not in branch.gaps:
            branch.secretary_id = _secretary([by_id[mid] for mid in branch.member_ids], year)
    world = World(seed, year, ids, district, subs, communities, branches, people, ids.of("v", "district"))
    from simulator import leadership  # it builds on the world's members (and elects some secretaries)
    world.leadership = leadership.draw(world)
    return world


def _sizes(shorts: list[str], members: int, rng: random.Random) -> list[int]:
    """Members per branch: the too-small branch has 2, the others share the rest by weight."""
    weights = [0.0 if s == TOO_SMALL else REPORT_WEIGHTS.get(s, rng.uniform(0.8, 1.2)) for s in shorts]
    rest = members - (2 if TOO_SMALL in shorts else 0)
    total = sum(weights)
    sizes = [2 if s == TOO_SMALL else max(3, int(rest * w / total)) for s, w in zip(shorts, weights)]
    i = 0
    while sum(sizes) < members:  # hand out what rounding left, largest weight first
        order = sorted((j for j, w in enumerate(weights) if w), key=lambda j: -weights[j])
        sizes[order[i % len(order)]] += 1
        i += 1
    return sizes


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


def _day(rng: random.Random, year: int, month: int, first: int = 2, last: int = 27) -> date:
    """A day that is never a month's first or last: reports cut on month ends stay unambiguous."""
    return date(year, month, rng.randint(first, last))


def _member(seed: int, ids: Ids, index: int, branch: Branch, k: int, year: int) -> Member:
    rng = random.Random(f"{seed}/member/{index}")
    gender = "female" if rng.random() < 0.55 else "male"
    age = int(rng.triangular(65, 95.99, 68))
    birth = date(year - 1 - age, rng.randint(1, 12), rng.randint(1, 28))
    joined = birth + timedelta(days=365 * rng.randint(20, 42) + rng.randint(0, 300))
    retired = date(birth.year + (55 if gender == "female" else 60), birth.month, birth.day)
    is_new = rng.random() < 0.04
    if is_new:
        registered = _day(rng, year, rng.randint(2, 10), last=18)
    else:
        earliest = max(retired, date(year - 15, 1, 1))
        registered = earliest + timedelta(days=rng.randrange(max(1, (date(year - 1, 10, 20) - earliest).days)))
    health = rng.choices(("good", "fair", "poor", "bedridden"), (45, 35, 15, 5))[0]
    phone = _mobile(rng) if rng.random() < 0.85 and health != "bedridden" else None
    wechat = f"o{rng.getrandbits(96):024x}" if phone and rng.random() < 0.55 else None
    email = f"lao{index}@example.cn" if phone and rng.random() < 0.08 else None
    preferred = "door" if not phone else "wechat" if wechat else rng.choice(("sms", "sms", "phone_call"))
    needs = rng.sample(vocab.NEEDS, rng.randint(0, 2))
    if health in ("poor", "bedridden") and "送学上门" not in needs:
        needs.append("送学上门")
    name = rng.choice(vocab.SURNAMES) + rng.choice(vocab.GIVEN_FEMALE if gender == "female" else vocab.GIVEN_MALE)
    m = Member(
        member_id=ids.of("m", str(index)), index=index, branch_id=branch.org_id, name=name, gender=gender,
        birth_date=birth, joined_party_on=joined if joined < retired else retired - timedelta(days=3650),
        retired_on=retired, registered_on=registered, former_unit=rng.choice(vocab.FORMER_UNITS),
        former_rank=rng.choice(vocab.FORMER_RANKS), phone=phone, wechat_openid=wechat, email=email,
        preferred_channel=preferred, lives_alone=rng.random() < 0.18, health=health,
        specialties=rng.sample(vocab.SPECIALTIES, rng.randint(0, 2)), service_needs=needs,
        monthly_pension=Decimal(rng.randrange(280000, 1100001)) / 100,
        specialist=branch.specialists[k % len(branch.specialists)],
        group=(k % branch.party_groups) + 1 if branch.party_groups else 0,
    )
    _life(m, rng, year, is_new)
    return m


def _life(m: Member, rng: random.Random, year: int, is_new: bool) -> None:
    """The member's year: winters in Sanya, family stays, exemption, dues habits, death or transfer."""
    able = m.health in ("good", "fair")
    if able and not is_new and rng.random() < 0.40:
        m.dues_scheme = "winter"
        back = _day(rng, year, 3)
        m.away = [Away(_day(rng, year - 1, 11, last=20), back, back, vocab.WINTER_PLACE, "seasonal"),
                  Away(_day(rng, year, 11, last=20), date(year + 1, 3, 15), None, vocab.WINTER_PLACE, "seasonal")]
    elif able and rng.random() < 0.07:
        start = _day(rng, year, 7)
        back = _day(rng, year, 8)
        m.away = [Away(start, back, back, rng.choice(vocab.FAMILY_PLACES), "family")]
    if m.dues_scheme != "winter":
        m.dues_scheme = rng.choices(("monthly", "quarterly", "half_year"), (45, 30, 25))[0]
    if m.health == "bedridden":
        m.exempt_from = max(m.registered_on, date(year - 1, 9, 1))
    roll = rng.random()
    if roll < 0.04 and not is_new:
        m.disengaged = True
    elif roll < 0.12 and not is_new:
        m.paid_through = rng.randint(3, 8)
    if able and not m.disengaged and rng.random() < 0.25:
        m.team = rng.choice(vocab.VOLUNTEER_TEAMS)
    m.neglected = rng.random() < 0.05
    # Volunteers, winter birds and newcomers stay all year, so no report figure hangs on an edge case.
    if m.team or m.away or is_new:
        return
    death_rate = {"good": 0.01, "fair": 0.02, "poor": 0.06, "bedridden": 0.15}[m.health]
    if rng.random() < death_rate:
        m.died_on = _day(rng, year, rng.randint(2, 12))
    elif rng.random() < 0.01:
        m.transferred_on = _day(rng, year, rng.randint(2, 12))
        m.destination = rng.choice(vocab.TRANSFER_PLACES)


LONG_STAY = ("天鹅湖", "上海（随女儿居住）", 2, 10)  # the branch, where, and the day (month, day) the stay began


def _long_stay(people: list[Member], branches: list[Branch], year: int) -> None:
    """One member of 天鹅湖 goes to live with a daughter in Shanghai from 10 February and stays: away
    at one place more than six months, so from 11 August the platform suggests transferring the
    relationship (transfer_suggested, issue 13). Chosen among members staying all year with a phone
    (they take part remotely), so no other figure hangs on the choice."""
    short, where, month, day = LONG_STAY
    branch = next((b for b in branches if b.short == short), None)
    if branch is None:
        return
    for m in people:
        if (m.branch_id == branch.org_id and m.registered_on.year < year and not m.away and not m.team
                and not m.disengaged and m.paid_through is None and m.died_on is None and m.transferred_on is None
                and m.phone and m.health == "good" and m.exempt_from is None):
            m.away = [Away(date(year, month, day), None, None, where, "family")]
            return


def _secretary(members: list[Member], year: int) -> str | None:
    """The branch secretary: a healthy member there all year in good standing, else anyone staying."""
    staying = [m for m in members if m.died_on is None and m.transferred_on is None and m.registered_on.year < year]
    for m in staying:
        if m.health == "good" and not m.away and not m.disengaged and m.paid_through is None:
            return m.member_id
    return staying[0].member_id if staying else None
