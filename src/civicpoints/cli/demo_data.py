"""Data of the demo pilot city: who the residents are and which activities run when.

Kept apart from the loading code in `demo.py` so the two stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.identity import id_check_char

DEMO_PASSWORD = DEMO_STAFF_PASSWORD
ZHANG_PHONE, LI_PHONE = "13800000001", "13800000002"
BATCH = 500
PAST_DAYS, FUTURE_DAYS = 84, 14  # exactly 12 weeks back (张女士's three months), two ahead
EPOCH_MONDAY = date(2026, 1, 5)  # anchors the every-other-week rotas
SHANGHAI_BUND = (31.2400, 121.4900)  # where 李先生's "evidence" photo was really taken

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
)
# Given names follow the fashion of the birth years: 秀英 and 建国 are grandparents' names.
GIVEN = {
    ("old", "F"): "秀英 桂英 玉兰 秀兰 凤英 桂兰 淑珍 美华 玉珍 丽华 秀珍 金凤 翠英 素芬 月娥",
    ("old", "M"): "建国 国强 建华 志明 德明 永福 国华 建军 春生 金根 根发 荣华 志刚 卫东 文斌",
    ("mid", "F"): "丽 静 敏 燕 艳 娟 霞 芳 红梅 晓燕 海燕 丽萍 雪梅 婷 琳",
    ("mid", "M"): "伟 强 磊 军 勇 杰 涛 斌 海涛 建伟 晓东 志强 俊 鹏 浩",
    ("young", "F"): "欣怡 梓涵 雨桐 诗涵 思琪 佳怡 可馨 若曦 子萱 一诺 梦瑶 语嫣 紫涵 晨曦 雨欣",
    ("young", "M"): "浩然 子轩 宇轩 俊杰 皓轩 子豪 博文 梓睿 天佑 明轩 一鸣 宇航 嘉懿 承泽 逸飞",
}
MOBILE_PREFIXES = "130 131 132 133 135 136 137 139 150 151 152 153 155 157 158 159 177 180 186 189"
ID_REGIONS = ("330102", "330105", "330106")


@dataclass(frozen=True)
class Plan:
    """A recurring or one-off activity, and how many residents come to a past session."""

    title: str
    category: str
    place: str
    at: tuple[float, float]  # WGS-84 centre of the circular geofence
    start: time  # Beijing time
    minutes: int
    crowd: int
    weekdays: tuple[int, ...] = ()  # Monday = 0
    every: int = 1  # weeks between sessions
    days: tuple[int, ...] = ()  # one-offs: days from today (negative = past)
    by: str = "organizer"  # the organizer runs street 0's communities; env_officer anywhere
    community: int = 0  # index into City.communities
    radius_m: int = 200


# fmt: off
V, H, E, S, ED = ("volunteer_service", "high_risk", "environmental", "public_supervision",
                  "education_support")
# A table reads better than one keyword per line. (title, category, place, centre, start, minutes,
# crowd, weekdays, every N weeks, ...); organizer plans sit in street 0's communities 0-2.
ZHANG_PLAN = Plan("垃圾分类指导", V, "北山一社区垃圾分类投放点", (30.2600, 120.1425), time(9), 120,
                  6, (1, 4))
LI_PLAN = Plan("青年环保挑战赛·宝石山净山", E, "宝石山登山步道（保俶塔）", (30.2628, 120.1440),
               time(9), 120, 8, days=(-5,), by="env_officer")
RIVER_PLAN = Plan("河道清理积分挑战赛", E, "沿山河（玉古路段）", (30.2680, 120.1340), time(8), 240,
                  50, days=(-33,), by="env_officer", community=9, radius_m=600)
PLANS = [
    ZHANG_PLAN,
    LI_PLAN,
    RIVER_PLAN,
    Plan("社区夜间巡逻", V, "北山二社区（北山街—曙光路）", (30.2610, 120.1470), time(19), 120, 8,
         (5,), community=1),
    Plan("独居老人陪伴", V, "北山三社区居家养老服务照料中心", (30.2655, 120.1405), time(14), 120, 6,
         (2,), community=2),
    Plan("防汛防台应急值守", H, "西湖北山街沿湖值守点", (30.2590, 120.1388), time(8), 240, 6, (6,),
         2),
    Plan("疫情防控值守（流感高发期）", H, "北山街道社区卫生服务中心", (30.2668, 120.1452), time(8),
         180, 8, days=(3,)),
    Plan("安全隐患排查", S, "保俶路沿线", (30.2640, 120.1450), time(15), 120, 8, (3,), 2),
    Plan("城市规划建议会", S, "北山街道社区服务中心", (30.2660, 120.1430), time(19), 120, 12, (0,),
         4),
    Plan("城市规划建议会：北山街慢行系统", S, "北山街道社区服务中心", (30.2660, 120.1430),
         time(19), 120, 15, days=(10,)),
    Plan("校外辅导员·四点半课堂", ED, "北山二社区四点半课堂", (30.2632, 120.1483), time(16), 120, 5,
         (3,), community=1),
    Plan("学校安全巡查（上学时段）", ED, "保俶塔实验学校校门口", (30.2675, 120.1465), time(7), 90,
         4, (0,)),
    Plan("西湖沿岸净滩（断桥—白堤）", E, "断桥残雪", (30.2593, 120.1516), time(9), 120, 8, (6,),
         by="env_officer", community=1),
    Plan("运河沿岸清洁", E, "拱宸桥东", (30.3190, 120.1400), time(9), 120, 8, (5,), 2,
         by="env_officer", community=28),
    Plan("南宋御街垃圾不落地", E, "南宋御街（鼓楼段）", (30.2440, 120.1680), time(15), 90, 6, (2,),
         2, by="env_officer", community=12),
    Plan("护绿补植", E, "古荡湾河绿道", (30.2760, 120.1330), time(8, 30), 180, 12, (5,), 4,
         by="env_officer", community=3),
    Plan("青年环保挑战赛（第二期）·北山街净湖", E, "北山街（断桥—岳庙）", (30.2590, 120.1388),
         time(9), 120, 20, days=(8,), by="env_officer"),
]
# fmt: on


@dataclass(frozen=True)
class Person:
    """A synthetic resident before registration."""

    name: str
    id_number: str
    phone: str
    community: int
    verified: bool


def with_check_char(first17: str) -> str:
    """An ID number with its check character."""
    return first17 + id_check_char(first17)


# The seed's two residents: 张女士, retired (born 1958, female), and 李先生, a young white-collar.
ZHANG = Person("张秀英", with_check_char("33010619580315062"), ZHANG_PHONE, 0, True)
LI = Person("李明", with_check_char("33010519940618031"), LI_PHONE, 1, True)
