"""The demo data `linju demo` loads: the communities and projects of the story we come from.

Everything goes through the same services a secretary's actions use, so the demo can never
hold a state the platform itself could not reach.
"""

from __future__ import annotations

from datetime import timedelta

from linju.projects.clock import local_today
from linju.projects.ledger import LedgerEvent, Posting, append
from linju.projects.ledger_format import EntryKind, fund_account
from linju.projects.rules import BudgetLinePlan, CommitteeRole, CommitteeSeat, ProjectStatus
from linju.projects.services.communities import create_community
from linju.projects.services.projects import ProjectDraft, change_status, create_project, publish
from linju.projects.tables import Community

PLAYGROUND_STORY = (
    "小区的儿童游乐设施已经老旧。在居民议事会上，大家提出想要一个儿童乐园，"
    "并决定通过众筹来筹集资金。\n\n"
    "经过项目听证会，选址定在2号楼架空层，设备选定为跷跷板和转椅。"
    "具有管理、法律和维修背景的居民组成监督委员会，从头到尾监督资金使用和施工。\n\n"
    "人人出一份力，人人爱护它。"
)


async def load_demo() -> bool:
    """Load the demo into an empty database; return False (and change nothing) otherwise."""
    if await Community.exists():
        return False
    today = local_today()

    await create_community(
        "lvjingyuan", "绿景苑社区", "青山区", "青山区绿景苑小区，居民自治的老小区。"
    )
    await create_project(
        ProjectDraft(
            community_slug="lvjingyuan",
            slug="tongqu-leyuan",
            title="童趣乐园",
            summary="在2号楼架空层为孩子们建一个儿童乐园：跷跷板、转椅和安全地垫。",
            story=PLAYGROUND_STORY,
            goal_fen=1_200_000,
            deadline=today + timedelta(days=45),
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
        )
    )
    await publish("tongqu-leyuan")
    playground = "tongqu-leyuan"
    await demo_online_donation(playground, "d01", "王阿姨", 50_000)
    await demo_online_donation(playground, "d02", "匿名", 20_000)
    await demo_online_donation(playground, "d03", "李老师一家", 100_000)
    await demo_matching(playground, "m01", "qu-fulian", "区妇联配捐", 100_000)
    await demo_online_donation(playground, "d04", "匿名", 8_800)
    await demo_offline_donation(playground, "o01", "2号楼居民（现金，居委会代收）", 30_000)
    await demo_online_donation(playground, "d05", "小明和妈妈", 5_000)

    await create_community(
        "hepingli", "和平里社区", "青山区", "和平里社区，老街坊多，爱读书的孩子也多。"
    )
    await create_project(
        ProjectDraft(
            community_slug="hepingli",
            slug="yuelanshi",
            title="社区阅览室",
            summary="把闲置的活动室改造成阅览室：书架、桌椅、照明和第一批图书。",
            story="社区里的孩子放学后没有安静的地方读书，老人们也想有个看报的去处。\n\n"
            "居民们提议把闲置的活动室改造成阅览室，由志愿者轮流值守。",
            goal_fen=2_000_000,
            deadline=today + timedelta(days=60),
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
        )
    )
    await publish("yuelanshi")
    await demo_online_donation("yuelanshi", "d06", "陈爷爷", 20_000)
    await demo_online_donation("yuelanshi", "d07", "匿名", 10_000)
    await demo_offline_donation("yuelanshi", "o02", "读书会（现金，居委会代收）", 15_000)

    await create_community("cuiweiyuan", "翠微苑社区", "青山区", "翠微苑社区，楼顶平台宽敞向阳。")
    await create_project(
        ProjectDraft(
            community_slug="cuiweiyuan",
            slug="wuding-huayuan",
            title="共享屋顶花园",
            summary="把5号楼楼顶变成大家的空中花园：种植箱、防水层和休息座椅。",
            story="5号楼楼顶常年闲置。居民们投工投劳，清理场地十天，"
            "一起把它变成了可以种菜、赏花、乘凉的共享花园。",
            goal_fen=800_000,
            deadline=None,
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
        )
    )
    await publish("wuding-huayuan")
    garden = "wuding-huayuan"
    await demo_online_donation(garden, "d08", "孙阿姨", 200_000)
    await demo_online_donation(garden, "d09", "匿名", 150_000)
    await demo_online_donation(garden, "d10", "5号楼302", 120_000)
    await demo_matching(garden, "m02", "qu-fulian", "区妇联配捐", 200_000)
    await demo_offline_donation(garden, "o03", "楼栋义卖（现金，居委会代收）", 140_000)
    for status in (ProjectStatus.FUNDED, ProjectStatus.IN_PROGRESS):
        await change_status(garden, status)
    await demo_expenditure(garden, "e01", "青山防水工程队", "防水层修补", 300_000)
    await demo_expenditure(garden, "e02", "绿源园艺店", "种植箱与土壤", 350_000)
    await demo_expenditure(garden, "e03", "翠微家具厂", "休息座椅", 150_000)
    await change_status(garden, ProjectStatus.COMPLETED)
    return True


# One helper per kind of ledger entry, so real donations and expenditures can replace them one
# by one. Refs are public ids made up for the demo; idempotency keys name the business event.
DEMO_GATEWAY = "sandbox"


def _fee_of(amount_fen: int) -> int:
    """The sandbox's processor fee: 0.6 %, rounded half up, at least 1 fen."""
    return max(1, (amount_fen * 6 + 500) // 1000)


async def demo_online_donation(slug: str, key: str, display_name: str, amount_fen: int) -> None:
    """A confirmed online donation and the processor's fee on it."""
    fund = fund_account(slug)
    ref = f"don_demo{key}"
    await append(
        slug,
        LedgerEvent(
            kind=EntryKind.DONATION,
            memo=display_name,
            ref=ref,
            postings=(Posting(fund, amount_fen), Posting("donors:online", -amount_fen)),
            idempotency_key=f"donation:demo{key}",
        ),
    )
    fee = _fee_of(amount_fen)
    await append(
        slug,
        LedgerEvent(
            kind=EntryKind.FEE,
            memo=f"支付手续费（{display_name}的捐款）",
            ref=ref,
            postings=(Posting(fund, -fee), Posting(f"fees:{DEMO_GATEWAY}", fee)),
            idempotency_key=f"fee:demo{key}",
        ),
    )


async def demo_offline_donation(slug: str, key: str, memo: str, amount_fen: int) -> None:
    """Cash handed to the residents' committee and recorded by the secretary."""
    await append(
        slug,
        LedgerEvent(
            kind=EntryKind.OFFLINE_DONATION,
            memo=memo,
            ref=f"don_demo{key}",
            postings=(
                Posting(fund_account(slug), amount_fen),
                Posting("donors:offline", -amount_fen),
            ),
            idempotency_key=f"donation:demo{key}",
        ),
    )


async def demo_matching(slug: str, key: str, sponsor: str, memo: str, amount_fen: int) -> None:
    """A sponsor's matching contribution (the district women's federation in the demo)."""
    await append(
        slug,
        LedgerEvent(
            kind=EntryKind.MATCHING,
            memo=memo,
            ref=f"mat_demo{key}",
            postings=(
                Posting(fund_account(slug), amount_fen),
                Posting(f"sponsor:{sponsor}", -amount_fen),
            ),
            idempotency_key=f"matching:demo{key}",
        ),
    )


async def demo_expenditure(slug: str, key: str, payee: str, purpose: str, amount_fen: int) -> None:
    """An approved expenditure paid to its payee."""
    await append(
        slug,
        LedgerEvent(
            kind=EntryKind.EXPENDITURE,
            memo=f"{payee}：{purpose}",
            ref=f"exp_demo{key}",
            postings=(Posting(fund_account(slug), -amount_fen), Posting("payees", amount_fen)),
            idempotency_key=f"expenditure:demo{key}",
        ),
    )
