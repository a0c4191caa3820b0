"""Insights: analytics rollups per community and Beijing month, the figures of a region
(API, CSV/XLSX, the /admin/insights dashboard) with small counts of people suppressed;
outcome indicators, surveys, recommendations (为您推荐) and the policy simulator (政策模拟)."""

from civicpoints.insights.errors import (
    InvalidChoice,
    InvalidRange,
    InvalidYear,
    ReportRegionNotFound,
)
from civicpoints.insights.export import as_file
from civicpoints.insights.outcome_rules import Unit
from civicpoints.insights.outcome_schemas import IndicatorCreate, JoinSet, OutcomeCreate
from civicpoints.insights.outcomes import OutcomeService
from civicpoints.insights.privacy import SUPPRESSED, THRESHOLD
from civicpoints.insights.recs import RecsService, Suggestion
from civicpoints.insights.recs_rules import Reason
from civicpoints.insights.report import ReportService, report_file
from civicpoints.insights.rollup import Rollup
from civicpoints.insights.schemas import FiguresRead
from civicpoints.insights.service import InsightsService, default_range, month_start
from civicpoints.insights.simulator import Current, Simulator
from civicpoints.insights.simulator_schemas import SimulationCreate, SimulationRead
from civicpoints.insights.subscriptions import subscribe
from civicpoints.insights.survey_errors import AlreadyAnswered, InvalidSurvey, SurveyNotFound
from civicpoints.insights.survey_schemas import AnswerIn, QuestionIn, SurveyCreate
from civicpoints.insights.surveys import Results, SurveyService, SurveyView, state

__all__ = [
    "SUPPRESSED",
    "THRESHOLD",
    "AlreadyAnswered",
    "AnswerIn",
    "Current",
    "FiguresRead",
    "IndicatorCreate",
    "InsightsService",
    "InvalidChoice",
    "InvalidRange",
    "InvalidSurvey",
    "InvalidYear",
    "JoinSet",
    "OutcomeCreate",
    "OutcomeService",
    "QuestionIn",
    "Reason",
    "RecsService",
    "ReportRegionNotFound",
    "ReportService",
    "Results",
    "Rollup",
    "SimulationCreate",
    "SimulationRead",
    "Simulator",
    "Suggestion",
    "SurveyCreate",
    "SurveyNotFound",
    "SurveyService",
    "SurveyView",
    "Unit",
    "as_file",
    "default_range",
    "month_start",
    "report_file",
    "state",
]

subscribe()
