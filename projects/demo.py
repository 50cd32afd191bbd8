"""The demo data `linju demo` loads: the communities and projects of the story we come from.

Everything goes through the same services a secretary's actions use, so the demo can never
hold a state the platform itself could not reach.
"""

from __future__ import annotations

import io
import random
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, Protocol

from PIL import Image, ImageDraw

from linju.platform.accounts.audit import COMMAND_LINE, Actor
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import local_today, utc_now
from linju.projects.core.files import AttachmentUpload, Upload
from linju.projects.core.read import host_details
from linju.projects.core.rules import (
    BudgetLinePlan,
    CommitteeRole,
    CommitteeSeat,
    Filing,
    HostDetails,
)
from linju.projects.core.services.communities import create_community
from linju.projects.core.services.drafting import create_draft
from linju.projects.core.services.host import save_host
from linju.projects.core.services.photos import StoredPhoto, store_photo
from linju.projects.core.services.projects import ProjectDraft, publish
from linju.projects.core.tables import BudgetLine, CommitteeMember, Community, Project
from linju.projects.donations.official_receipts import (
    ReceiptIssue,
    ask_for_receipt_of,
    issue_receipt,
)
from linju.projects.donations.rules import ANONYMOUS_NAME as ANONYMOUS
from linju.projects.donations.rules import DonationInput, ReceiptRequestInput
from linju.projects.ledger.log.services import integrate as integrate_log
from linju.projects.spending.rules import LeftoverChoice, Person
from linju.projects.spending.services.completion import decide_report, file_report
from linju.projects.spending.services.expenditures import (
    Payment,
    Proposal,
    decide,
    propose,
    record_payment,
)
from linju.projects.stewardship.rules import DisclosurePlan, OfflineGift, PledgePlan
from linju.projects.stewardship.services.disclosures import publish_disclosure
from linju.projects.stewardship.services.matching import create_pledge, decide_pledge
from linju.projects.stewardship.services.offline_donations import (
    confirm_offline_donation,
    record_offline_donation,
)
from linju.projects.stewardship.services.updates import post_update
from linju.projects.voice.rules import (
    HearingWindow,
    MinutesText,
    NeedText,
    QuestionDraft,
    QuestionKind,
)
from linju.projects.voice.services import households as voice_households
from linju.projects.voice.services import needs as voice_needs
from linju.projects.voice.services.hearings import (
    Subject,
    close_hearing,
    confirm_paper_ballot,
    open_hearing,
    record_paper_ballot,
)
from linju.projects.voice.services.hearings import vote as hearing_vote
from linju.projects.voice.services.minutes import draft_minutes, prefilled_decisions, sign_minutes
from linju.projects.voice.services.stewards import name_steward
from linju.projects.voice.tables import Hearing, HearingOption

PLAYGROUND_STORY = (
    "小区的儿童游乐设施已经老旧。在居民议事会上，大家提出想要一个儿童乐园，"
    "并决定通过众筹来筹集资金。\n\n"
    "经过项目听证会，选址定在2号楼架空层，设备选定为跷跷板和转椅。"
    "具有管理、法律和维修背景的居民组成监督委员会，从头到尾监督资金使用和施工。\n\n"
    "人人出一份力，人人爱护它。"
)


DEMO_SECRETARY = "林秀英"  # who files the demo's proposals: a person, as on a real site

# The demo's host charity (ADR 0027). Its credit code's check character was computed with
# python-stdnum (`stdnum.cn.uscc.calc_check_digit("51420107MJ4530321")` is "U"): 5 civil
# affairs, 1 a social organisation, 420107 the district, then the organisation code.
DEMO_HOST = HostDetails(
    name="青山区慈善会",
    credit_code="51420107MJ4530321U",
    fundraising_qualified=True,
    qualified_on=date(2021, 3, 15),
    registration_authority="青山区民政局",
    contact="027-8686 1234 · 青山区和平大道1号",
    designated_platforms=("腾讯公益", "支付宝公益"),
    filing_required=True,
)


def demo_filing(number: int, starts_on: date, days: int) -> Filing:
    """A plausible filing on 慈善中国: the host's credit code, the year, a number of the year."""
    return Filing(
        number=f"{DEMO_HOST.credit_code}{starts_on:%y}{number:03d}",
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=days),
    )


async def load_demo() -> bool:
    """Load the demo into an empty database; return False (and change nothing) otherwise.

    One transaction holds it all (the services' own transactions join it), so a demo that fails
    halfway leaves the database as empty as it found it.
    """
    async with write_transaction():
        if await Community.exists():
            return False
        await _load_demo()
    return True


async def _load_demo() -> None:
    today = local_today()
    _pictures_drawn.clear()  # the same pictures each time the demo is loaded
    if await host_details() is None:  # a host an admin named before the demo stays
        await save_host(COMMAND_LINE, DEMO_HOST)

    await create_community(
        "lvjingyuan", "绿景苑社区", "青山区", "青山区绿景苑小区，居民自治的老小区。"
    )
    await demo_project(
        "playground",
        ProjectDraft(
            community_slug="lvjingyuan",
            slug="tongqu-leyuan",
            title="童趣乐园",
            summary="在2号楼架空层为孩子们建一个儿童乐园：跷跷板、转椅和安全地垫。",
            story=PLAYGROUND_STORY,
            goal_fen=1_200_000,
            deadline=today + timedelta(days=45),
            filing=demo_filing(12, today - timedelta(days=3), 90),
            budget=[
                BudgetLinePlan("跷跷板（两台）", 300_000),
                BudgetLinePlan("转椅", 400_000),
                BudgetLinePlan("安全地垫", 350_000),
                BudgetLinePlan("安装与验收", 150_000),
            ],
            committee=[
                CommitteeSeat("张建国", CommitteeRole.CHAIR, "管理：退休物业经理"),
                CommitteeSeat("李敏", CommitteeRole.MEMBER, "法律：社区法律顾问"),
                CommitteeSeat("王师傅", CommitteeRole.MEMBER, "维修：电工、设备维修"),
            ],
        ),
    )
    await publish("tongqu-leyuan")
    playground = "tongqu-leyuan"
    await demo_matching_pledge(playground, cap_fen=100_000)
    await demo_online_donation(playground, "王阿姨", 50_000, "给孩子们一个安全的乐园！")
    await demo_online_donation(playground, ANONYMOUS, 20_000)
    li_family = await demo_online_donation(playground, "李老师一家", 100_000, "支持社区共建")
    anonymous_gift = await demo_online_donation(playground, ANONYMOUS, 8_800)
    await demo_official_receipts(li_family, anonymous_gift)
    await demo_offline_donation(playground, "2号楼居民（现金，居委会代收）", 30_000)
    await demo_online_donation(playground, "小明和妈妈", 5_000, "我想要跷跷板！")
    await demo_update(
        playground,
        "playground",
        "## 选址确定\n\n居民议事会投票通过，乐园建在**2号楼架空层**：\n\n"
        "- 避雨、遮阳，雨天也能玩\n- 离各楼栋都近\n- 物业同意夜间锁门",
    )
    await demo_needs()  # the playground began as the households' need (ADR 0033)

    await create_community(
        "hepingli", "和平里社区", "青山区", "和平里社区，老街坊多，爱读书的孩子也多。"
    )
    await demo_project(
        "reading",
        ProjectDraft(
            community_slug="hepingli",
            slug="yuelanshi",
            title="社区阅览室",
            summary="把闲置的活动室改造成阅览室：书架、桌椅、照明和第一批图书。",
            story="社区里的孩子放学后没有安静的地方读书，老人们也想有个看报的去处。\n\n"
            "居民们提议把闲置的活动室改造成阅览室，由志愿者轮流值守。",
            goal_fen=2_000_000,
            deadline=today + timedelta(days=60),
            # a year-long plan, filed three months ago: disclosed every three months (ADR 0029)
            filing=demo_filing(15, today - timedelta(days=95), 365),
            budget=[
                BudgetLinePlan("书架与桌椅", 900_000),
                BudgetLinePlan("照明改造", 300_000),
                BudgetLinePlan("第一批图书", 800_000),
            ],
            committee=[
                CommitteeSeat("陈老师", CommitteeRole.CHAIR, "管理：退休小学校长"),
                CommitteeSeat("刘律师", CommitteeRole.MEMBER, "法律：执业律师"),
                CommitteeSeat("赵工", CommitteeRole.MEMBER, "维修：水电工程师"),
            ],
        ),
    )
    await publish("yuelanshi")
    await demo_online_donation("yuelanshi", "陈爷爷", 20_000, "多读书，读好书")
    await demo_online_donation("yuelanshi", ANONYMOUS, 10_000)
    await demo_offline_donation("yuelanshi", "读书会（现金，居委会代收）", 15_000)
    await demo_disclosure(
        "yuelanshi",
        today - timedelta(days=95),
        "活动室清空并粉刷完毕，书架和桌椅已向三家厂家询价；读书会捐出第一批图书120册。",
    )

    await create_community("cuiweiyuan", "翠微苑社区", "青山区", "翠微苑社区，楼顶平台宽敞向阳。")
    await demo_project(
        "garden",
        ProjectDraft(
            community_slug="cuiweiyuan",
            slug="wuding-huayuan",
            title="共享屋顶花园",
            summary="把5号楼楼顶变成大家的空中花园：种植箱、防水层和休息座椅。",
            story="5号楼楼顶常年闲置。居民们投工投劳，清理场地十天，"
            "一起把它变成了可以种菜、赏花、乘凉的共享花园。",
            goal_fen=800_000,
            deadline=None,
            filing=demo_filing(7, today - timedelta(days=30), 60),
            budget=[
                BudgetLinePlan("防水层修补", 300_000),
                BudgetLinePlan("种植箱与土壤", 350_000),
                BudgetLinePlan("休息座椅", 150_000),
            ],
            committee=[
                CommitteeSeat("孙阿姨", CommitteeRole.CHAIR, "管理：楼栋长"),
                CommitteeSeat("周先生", CommitteeRole.MEMBER, "法律：企业法务"),
                CommitteeSeat("吴师傅", CommitteeRole.MEMBER, "维修：园林绿化工"),
            ],
        ),
    )
    await publish("wuding-huayuan")
    garden = "wuding-huayuan"
    await demo_matching_pledge(garden, cap_fen=200_000)
    await demo_online_donation(garden, "孙阿姨", 200_000)
    await demo_online_donation(garden, ANONYMOUS, 150_000)
    await demo_online_donation(garden, "5号楼302", 120_000)
    await demo_offline_donation(garden, "楼栋义卖（现金，居委会代收）", 140_000)
    await demo_expenditure(garden, "青山防水工程队", "防水层修补", 300_000)
    await demo_update(
        garden,
        "garden",
        "## 防水层完工\n\n青山防水工程队用了三天修补楼顶防水层，"
        "闭水试验48小时无渗漏，监督委员会吴师傅到场验收。",
    )
    await demo_expenditure(garden, "绿源园艺店", "种植箱与土壤", 350_000)
    await demo_expenditure(garden, "翠微家具厂", "休息座椅", 150_000)
    await demo_update(
        garden,
        "garden",
        "## 花园建成\n\n种植箱和座椅都已安装，24个种植箱全部由居民认领：\n\n"
        "1. 每户一箱，轮流浇水\n2. 收获的蔬菜在楼下分享\n3. 每月第一个周六一起除草",
    )
    await demo_completion(
        garden, "屋顶花园已建成：防水层修补完成，种植箱和座椅已安装，居民认领了全部种植箱。"
    )


async def demo_needs() -> None:
    """绿景苑's 120 households (building · unit · room, no names); the need for a playground that
    six of them supported (5%: it went to review, and the secretary accepted it as the project
    童趣乐园), and an open need for benches at the east gate (docs/adr/0033)."""
    floors = [f"{floor}0{room}" for floor in range(1, 7) for room in (1, 2)]
    rows = [f"{b},{u},{room}" for b in range(1, 6) for u in (1, 2) for room in floors]
    await voice_households.import_households(
        COMMAND_LINE, "lvjingyuan", "building,unit,room\n" + "\n".join(rows)
    )
    homes = await voice_households.household_views("lvjingyuan")
    playground = await voice_needs.post_need(
        homes[0],
        NeedText(
            "孩子们需要一个游乐场",
            "小区里没有孩子们玩耍的地方，放学后只能在车道边追跑，很不安全。"
            "希望能建一个儿童游乐场，有跷跷板、转转椅。",
            "2号楼架空层",
        ),
    )
    for home in homes[:6]:
        await voice_needs.support(home, playground)
    await demo_hearing(homes, playground)
    await voice_needs.accept_as_project(COMMAND_LINE, "lvjingyuan", playground, "tongqu-leyuan")
    benches = await voice_needs.post_need(
        homes[30],
        NeedText(
            "东门加装休息长椅",
            "老人买菜回来走到东门要歇一歇，门口没有可以坐的地方。",
            "小区东门",
        ),
    )
    for home in (homes[30], homes[41], homes[57]):
        await voice_needs.support(home, benches)


# The hearing the playground need had (docs/adr/0032, 0034): 80 of the 120 households voted,
# 70 online and 10 on paper (recorded by one steward, confirmed by the other); the site chosen
# 2号楼架空层 (54 to 26), the equipment 跷跷板 (61) and 转转椅 (56) over 秋千 (34). Its window is
# moved into the past once the votes are in, as the weeks between went by; then it is closed, its
# tally frozen, and its minutes drafted and signed off by the two stewards.
HEARING_BALLOTS = (
    # (how many households, site, equipment)
    (40, "2号楼架空层", ("跷跷板", "转转椅")),
    (8, "2号楼架空层", ("跷跷板", "秋千")),
    (6, "2号楼架空层", ("转转椅",)),
    (13, "小区东门空地", ("跷跷板", "秋千")),
    (10, "小区东门空地", ("秋千", "转转椅")),
    (3, "小区东门空地", ("秋千",)),
)
PAPER_BALLOTS = 10  # the last ten households of the list above voted on paper


async def demo_hearing(homes: list[Any], need_id: int) -> int:
    wang = await name_steward(
        COMMAND_LINE, "lvjingyuan", "wang.ayi@lvjing.example", "王阿姨", "zh_CN"
    )
    li = await name_steward(
        COMMAND_LINE, "lvjingyuan", "li.shifu@lvjing.example", "李师傅", "zh_CN"
    )
    first, second = Actor(wang, "王阿姨"), Actor(li, "李师傅")
    now = utc_now()
    hearing_id = await open_hearing(
        first,
        "lvjingyuan",
        Subject(need_id=need_id),
        "儿童游乐场听证会：选址与设施",
        [
            QuestionDraft("选址", QuestionKind.SINGLE, 1, ("2号楼架空层", "小区东门空地")),
            QuestionDraft("设施", QuestionKind.MULTIPLE, 2, ("跷跷板", "转转椅", "秋千")),
        ],
        HearingWindow(
            opens_at=now,
            closes_at=now + timedelta(days=7),
            meeting_at=now + timedelta(days=5),
            meeting_place="2号楼架空层（长廊议事会）",
        ),
    )
    options = {
        row["text"]: (int(row["question"]), int(row["id"]))
        for row in await HearingOption.select(
            HearingOption.id, HearingOption.text, HearingOption.question
        ).where(HearingOption.question.hearing == hearing_id)
    }
    ballots = [(site, kit) for count, site, kit in HEARING_BALLOTS for _ in range(count)]
    for index, (site, kit) in enumerate(ballots):
        chosen: dict[int, set[int]] = {}
        for text in (site, *kit):
            question, option = options[text]
            chosen.setdefault(question, set()).add(option)
        home = homes[index]
        if index < len(ballots) - PAPER_BALLOTS:
            await hearing_vote(home, hearing_id, chosen)
        else:
            paper = await record_paper_ballot(first, hearing_id, home.address, chosen)
            await confirm_paper_ballot(second, paper)
    await Hearing.update(
        {
            Hearing.opens_at: now - timedelta(days=21),
            Hearing.closes_at: now - timedelta(days=14),
            Hearing.meeting_at: now - timedelta(days=16),
        }
    ).where(Hearing.id == hearing_id)
    await close_hearing(hearing_id)
    await integrate_log()  # the donations so far, in a checkpoint the minutes anchor
    decisions = await prefilled_decisions(hearing_id)
    await draft_minutes(
        first,
        hearing_id,
        MinutesText(
            "长廊议事会在2号楼架空层召开，社区书记林秀英介绍了游乐场需求和两个候选地点。"
            "家长们认为架空层避雨遮阳、离各楼栋近；物业同意夜间锁门。"
            "大家讨论了设施的安全和维护，决定监督委员会从居民中产生。",
            "社区书记林秀英，居民代表王阿姨、李师傅，物业刘经理，居民 30 余户（含 12 位家长）",
            decisions,
        ),
    )
    await sign_minutes(first, hearing_id)
    await sign_minutes(second, hearing_id)
    return hearing_id


# The demo acts through the same services people use: donors give through the sandbox
# gateway's checkout and confirmation path, the district women's federation matches through a
# pledge, cash is recorded and confirmed, and the committee approves each expenditure before it
# is paid. The demo is loaded from the command line, so the audit log names `cli` as the actor.


def _demo_png(text_seed: int) -> bytes:
    """A small real PNG (a receipt photo stand-in) that the upload checks accept.

    Drawn from its seed, number included, so that no two pieces of evidence share a hash."""
    rng = random.Random(text_seed)
    image = Image.new("RGB", (320, 200), (250, 247, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((16, 16, 304, 184), outline=(194, 65, 12), width=4)
    draw.text((32, 28), f"No. {text_seed}", fill=(31, 41, 51))
    for row in range(4):
        y = 70 + row * 24
        draw.line((32, y, 32 + rng.randint(120, 260), y), fill=(31, 41, 51), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _demo_invoice(payee: str, purpose: str, amount_fen: int) -> bytes:
    """An invoice stand-in of its own: the amount written on it, its lines drawn from the payee
    and the purpose, so each expenditure's invoice has its own content and hash."""
    rng = random.Random(f"{payee}|{purpose}|{amount_fen}")
    image = Image.new("RGB", (480, 320), (255, 253, 246))
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 12, 468, 308), outline=(180, 40, 40), width=3)
    draw.ellipse((380, 230, 450, 300), outline=(200, 30, 30), width=4)  # the seller's seal
    draw.text((28, 24), "FAPIAO / INVOICE", fill=(180, 40, 40))
    draw.text((28, 48), f"No. {rng.randint(10_000_000, 99_999_999)}", fill=(31, 41, 51))
    for row in range(rng.randint(2, 5)):
        y = 90 + row * 28
        draw.line((28, y, 28 + rng.randint(150, 300), y), fill=(90, 90, 90), width=2)
        draw.text((350, y - 8), f"{rng.randint(1, 99)}.00", fill=(31, 41, 51))
    draw.text((28, 270), f"CNY {amount_fen // 100:,}.{amount_fen % 100:02d}", fill=(31, 41, 51))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# Each demo project's pictures: a simple scene drawn at demo time, in the project's colours.
_THEMES = {
    "playground": ((186, 230, 253), (134, 239, 172)),  # sky, ground
    "reading": ((254, 243, 199), (180, 140, 100)),  # wall, floor
    "garden": ((191, 219, 254), (148, 163, 184)),  # sky, roof
}


def _demo_picture(theme: str, variant: int) -> bytes:
    """A drawn photo stand-in of a project (cover, gallery or update), different per variant."""
    sky, ground = _THEMES[theme]
    rng = random.Random(f"{theme}:{variant}")
    width, height = 750, 420
    image = Image.new("RGB", (width, height), sky)
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(250, 300)
    draw.rectangle((0, horizon, width, height), fill=ground)
    draw.ellipse((600, 30, 680, 110), fill=(253, 224, 71))  # the sun, or a lamp
    for _ in range(rng.randint(3, 6)):
        x = rng.randint(20, width - 140)
        colour = (rng.randint(40, 230), rng.randint(40, 200), rng.randint(40, 200))
        if theme == "playground":  # a seesaw on its stand, or a roundabout
            draw.polygon(
                [(x + 60, horizon), (x + 45, horizon - 40), (x + 75, horizon - 40)], fill=colour
            )
            draw.line((x, horizon - 30, x + 120, horizon - 55), fill=colour, width=10)
        elif theme == "reading":  # a bookshelf with its books
            draw.rectangle((x, horizon - 160, x + 110, horizon), outline=(120, 80, 40), width=6)
            for shelf in range(3):
                y = horizon - 150 + shelf * 50
                for book in range(rng.randint(4, 8)):
                    bx = x + 8 + book * 12
                    book_colour = (rng.randint(60, 220), rng.randint(60, 220), rng.randint(60, 220))
                    draw.rectangle((bx, y + rng.randint(0, 12), bx + 9, y + 40), fill=book_colour)
        else:  # a planter box with its plants
            draw.rectangle((x, horizon - 40, x + 120, horizon + 10), fill=(146, 100, 60))
            for plant in range(5):
                px = x + 12 + plant * 22
                draw.ellipse((px - 10, horizon - 80, px + 10, horizon - 40), fill=(34, 139, 34))
                draw.ellipse((px - 4, horizon - 90, px + 4, horizon - 82), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


_pictures_drawn: dict[str, int] = {}


async def _picture(theme: str) -> StoredPhoto:
    """The theme's next picture, stored as any uploaded photo is."""
    variant = _pictures_drawn.get(theme, 0)
    _pictures_drawn[theme] = variant + 1
    return await store_photo(_demo_picture(theme, variant))


async def demo_project(theme: str, draft: ProjectDraft) -> None:
    """A project as a secretary drafts it: a cover photo and a gallery of three."""
    cover = await _picture(theme)
    gallery = [await _picture(theme) for _ in range(3)]
    await create_draft(COMMAND_LINE, replace(draft, cover_image=cover.url), gallery)


async def demo_update(slug: str, theme: str, body: str) -> None:
    """A progress update with a photo, as the secretary posts it."""
    photo = await _picture(theme)
    await post_update(COMMAND_LINE, slug, body, [photo.url])


class DemoPayment(Protocol):
    """Pay a donation through the sandbox gateway's own checkout and apply its report; returns
    the donation's id.

    The port through which the demo reaches the payments adapter without importing it
    (`projects` never imports `payments`): the composition root registers
    `payments.services.paid_in_sandbox`. So each demo gift has the sandbox checkout a donor's
    gift has, and can be refunded through it like any other.
    """

    async def __call__(self, project_slug: str, data: DonationInput) -> str: ...


_demo_payment: DemoPayment | None = None


def register_demo_payment(pay: DemoPayment) -> None:
    global _demo_payment
    _demo_payment = pay


async def demo_online_donation(
    slug: str, display_name: str, amount_fen: int, message: str = ""
) -> str:
    """A donation paid through the sandbox's checkout, with its processor fee."""
    if _demo_payment is None:
        raise RuntimeError("no demo payment registered: call linju.platform.app.wire() first")
    anonymous = display_name == ANONYMOUS
    return await _demo_payment(
        slug,
        DonationInput(
            amount_fen=amount_fen,
            currency="CNY",
            display_name="" if anonymous else display_name,
            anonymous=anonymous,
            message=message,
            email="",
        ),
    )


def _demo_receipt_pdf(number: str, amount_fen: int) -> bytes:
    """An electronic receipt stand-in (a one-page PDF drawn with Pillow): what the finance
    system would issue, with its number and amount."""
    image = Image.new("RGB", (600, 360), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 12, 588, 348), outline=(180, 40, 40), width=3)
    draw.text((28, 24), "DONATION RECEIPT (DEMO)", fill=(180, 40, 40))
    draw.text((28, 56), f"Code 42010122  No. {number}", fill=(31, 41, 51))
    draw.text((28, 300), f"CNY {amount_fen // 100:,}.{amount_fen % 100:02d}", fill=(31, 41, 51))
    draw.ellipse((480, 250, 560, 330), outline=(200, 30, 30), width=4)  # the charity's seal
    buffer = io.BytesIO()
    image.save(buffer, format="PDF")
    return buffer.getvalue()


async def demo_official_receipts(issued_for: str, pending_for: str) -> None:
    """Two requests for official receipts (ADR 0030): an organisation's, issued by the host's
    finance staff (from the command line: the demo has no accounts), and an anonymous donor's,
    still in the queue. Neither has a mail to send: the demo's gifts have no e-mail."""
    issued, _ = await ask_for_receipt_of(
        issued_for,
        ReceiptRequestInput(
            "organisation", "青山区李氏文化传播有限公司", "91420100MA4K2Y3L0N", "li@example.cn"
        ),
    )
    await issue_receipt(
        COMMAND_LINE,
        issued.id,
        ReceiptIssue("42010122", "0000000001", _demo_receipt_pdf("0000000001", 100_000)),
    )
    await ask_for_receipt_of(
        pending_for, ReceiptRequestInput("person", "赵明", "", "zhao.ming@example.cn")
    )


async def demo_matching_pledge(slug: str, cap_fen: int) -> None:
    """The district women's federation matches donations 1:1 up to a cap: recorded by the
    secretary with a photo of the federation's letter, then confirmed by the committee's chair
    (a second person), from which moment it matches."""
    now = utc_now()
    letter = await store_photo(_demo_png(cap_fen + 7))
    pledge = await create_pledge(
        COMMAND_LINE,
        slug,
        PledgePlan(
            sponsor_slug="qu-fulian",
            sponsor_name="区妇联",
            ratio_num=1,
            ratio_den=1,
            cap_fen=cap_fen,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=90),
            letter_url=letter.url,
            letter_sha256=letter.sha256,
        ),
    )
    project_id = (await Project.select(Project.id).where(Project.slug == slug).first() or {})["id"]
    chair = (await _seats(project_id))[0]
    await decide_pledge(COMMAND_LINE, slug, pledge, chair, True, "已核对区妇联盖章的配捐函")


async def demo_offline_donation(slug: str, donor: str, amount_fen: int) -> None:
    """Cash recorded by the secretary with a photo of the receipt, then confirmed."""
    photo = await store_photo(_demo_png(amount_fen))
    public_id = await record_offline_donation(
        COMMAND_LINE,
        slug,
        OfflineGift(
            amount_fen=amount_fen,
            donor_name=donor,
            anonymous=False,
            received_on=local_today(),
            method="cash",
            evidence_url=photo.url,
            evidence_sha256=photo.sha256,
        ),
    )
    await confirm_offline_donation(COMMAND_LINE, slug, public_id)


async def demo_expenditure(slug: str, payee: str, purpose: str, amount_fen: int) -> None:
    """Proposed against its budget line, approved by two members, then paid."""
    project_id = (await Project.select(Project.id).where(Project.slug == slug).first() or {})["id"]
    line = (
        await BudgetLine.select(BudgetLine.id)
        .where((BudgetLine.project == project_id) & (BudgetLine.title == purpose))
        .first()
    )
    assert line is not None, purpose
    invoice = AttachmentUpload(
        original=Upload(filename="invoice.png", data=_demo_invoice(payee, purpose, amount_fen)),
        label="发票",
        publish_original=True,
    )
    public_id = await propose(
        slug,
        Proposal(
            budget_line_id=line["id"],
            payee=payee,
            purpose=purpose,
            amount_fen=amount_fen,
            attachments=(invoice,),
        ),
        Person(name=DEMO_SECRETARY),
    )
    for seat in (await _seats(project_id))[:2]:
        await decide(slug, public_id, seat, True, "价格合理，发票齐全")
    await record_payment(
        slug,
        public_id,
        Payment(
            paid_on=local_today(),
            method="银行转账",  # shown as "Bank transfer" on English pages
            proof=AttachmentUpload(
                original=Upload(filename="transfer.png", data=_demo_png(amount_fen + 1)),
                label="转账凭证",
                publish_original=True,
            ),
        ),
    )


async def demo_disclosure(slug: str, starts_on: date, what_was_done: str) -> None:
    """The community's secretary publishes the project's disclosure up to today (ADR 0029)."""
    project = await Project.select(Project.community).where(Project.slug == slug).first()
    assert project is not None
    plan = DisclosurePlan(starts_on, local_today(), what_was_done)
    community = frozenset({int(project["community"])})
    await publish_disclosure(COMMAND_LINE, community, "社区书记员", slug, plan)


async def demo_completion(slug: str, summary: str) -> None:
    """The completion report, signed off by the committee; leftovers go to the community."""
    project_id = (await Project.select(Project.id).where(Project.slug == slug).first() or {})["id"]
    report_id = await file_report(
        slug, summary, Person(name=DEMO_SECRETARY), leftover=LeftoverChoice.TRANSFER
    )
    for seat in (await _seats(project_id))[:2]:
        await decide_report(slug, report_id, seat, True, "账目清楚，工程已验收")


async def _seats(project_id: int) -> list[int]:
    rows = (
        await CommitteeMember.select(CommitteeMember.id)
        .where(CommitteeMember.project == project_id)
        .order_by(CommitteeMember.position)
    )
    return [int(row["id"]) for row in rows]
