"""Service categories as a certificate names them (the codes are scoring's categories;
hours may not import scoring, its sibling, so the zh-CN names are repeated here and a unit
test holds them equal)."""

from __future__ import annotations

from types import MappingProxyType

CATEGORY_ZH = MappingProxyType(
    {
        "volunteer_service": "志愿服务",
        "high_risk": "高风险",
        "environmental": "环保行动",
        "public_supervision": "公共监督",
        "education_support": "教育支持",
    }
)
