"""The demo data `linju demo` loads: the communities and projects of the story we come from.

Everything goes through the same services a secretary's actions use, so the demo can never
hold a state the platform itself could not reach.
"""

from __future__ import annotations

from datetime import timedelta

from linju.projects.clock import local_today
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
    for status in (ProjectStatus.FUNDED, ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED):
        await change_status("wuding-huayuan", status)
    return True
