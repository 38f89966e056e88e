from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from .account_types import (
    AccountTypeApi,
    AccountTypeAssessApi,
    AccountTypesApi,
    AssessmentConfirmApi,
    ServiceStrategiesApi,
    ServiceStrategyApi,
)
from .accounts import AccountViewSet, ContactViewSet, EquipmentViewSet, OrderViewSet, ProductViewSet
from .concessions import ConcessionViewSet
from .engagement_activities import ActivityViewSet, PainViewSet, ReferenceCustomerViewSet
from .engagement_events import EventViewSet, GiftViewSet, VipLevelViewSet, VipMemberViewSet
from .engagement_programme import (
    CoverageDetailApi,
    CoverageListApi,
    ExecutiveOverdueApi,
    MyWeekApi,
    PlaybookViewSet,
    SponsoredAccountsApi,
)
from .engagement_reminders import ReminderViewSet
from .insights import (
    ClvApi,
    ConcentrationApi,
    NeglectedApi,
    ParetoApi,
    PyramidApi,
    VolumeProfitApi,
)
from .insights_settings import InsightsSettingsApi
from .profitability import (
    AccountPnlApi,
    BelowFloorReportApi,
    ConcessionPolicyDetailApi,
    ConcessionPolicyListApi,
    ConcessionsReportApi,
    CostRateDetailApi,
    CostRateListApi,
    FlaggedLinesReportApi,
    OverPolicyReportApi,
    PnlListApi,
    ThresholdsApi,
    WhaleCurveApi,
)
from .scorecard import (
    AccountScoreApi,
    BigOrderApi,
    JudgementsApi,
    KeyAccountRemoveApi,
    KeyAccountsApi,
    QualitativeCriteriaApi,
    ScorecardDetailApi,
    ScorecardListApi,
    ScorecardPublishApi,
    ScorecardRankingApi,
    SingleMetricApi,
)
from .service import (
    AttachmentViewSet,
    CalendarViewSet,
    ContractViewSet,
    MailInApi,
    MaintenancePlanViewSet,
    NpsSurveyViewSet,
    ServiceDashboardApi,
    ServiceTeamViewSet,
    SlaPolicyViewSet,
    TicketViewSet,
    VisitViewSet,
)
from .tiers import TierChangeListApi, TierOverrideApi, TiersApplyApi
from .users import MeApi, TokenObtainApi

app_name = "api"

router = DefaultRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("products", ProductViewSet, basename="product")
router.register("equipment", EquipmentViewSet, basename="equipment")
router.register("orders", OrderViewSet, basename="order")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("attachments", AttachmentViewSet, basename="attachment")
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
router.register("calendars", CalendarViewSet, basename="calendar")
router.register("visits", VisitViewSet, basename="visit")
router.register("contracts", ContractViewSet, basename="contract")
router.register("maintenance-plans", MaintenancePlanViewSet, basename="maintenance-plan")
router.register("service-teams", ServiceTeamViewSet, basename="service-team")
router.register("surveys", NpsSurveyViewSet, basename="survey")
router.register("concessions", ConcessionViewSet, basename="concession")
router.register("events", EventViewSet, basename="event")
router.register("gifts", GiftViewSet, basename="gift")
router.register("vip-members", VipMemberViewSet, basename="vip-member")
router.register("vip-levels", VipLevelViewSet, basename="vip-level")
router.register("activities", ActivityViewSet, basename="activity")
router.register("pains", PainViewSet, basename="pain")
router.register("reference-customers", ReferenceCustomerViewSet, basename="reference-customer")
router.register("playbooks", PlaybookViewSet, basename="playbook")
router.register("reminders", ReminderViewSet, basename="reminder")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", TokenObtainApi.as_view(), name="token_obtain"),
    path("me/", MeApi.as_view(), name="me"),
    path("mail-in/", MailInApi.as_view(), name="mail_in"),
    path("service/dashboard/", ServiceDashboardApi.as_view(), name="service_dashboard"),
    path("insights/pareto/", ParetoApi.as_view(), name="insights_pareto"),
    path("insights/pyramid/", PyramidApi.as_view(), name="insights_pyramid"),
    path("insights/concentration/", ConcentrationApi.as_view(), name="insights_concentration"),
    path("insights/neglected/", NeglectedApi.as_view(), name="insights_neglected"),
    path("insights/clv/", ClvApi.as_view(), name="insights_clv"),
    path("insights/volume-profit/", VolumeProfitApi.as_view(), name="insights_volume_profit"),
    path("insights/settings/", InsightsSettingsApi.as_view(), name="insights_settings"),
    path("insights/tier-changes/", TierChangeListApi.as_view(), name="insights_tier_changes"),
    path("insights/tiers/apply/", TiersApplyApi.as_view(), name="insights_tiers_apply"),
    path(
        "accounts/<int:pk>/tier-override/",
        TierOverrideApi.as_view(),
        name="account_tier_override",
    ),
    path("insights/scorecard/", ScorecardRankingApi.as_view(), name="insights_scorecard"),
    path("insights/scorecard/<int:pk>/", AccountScoreApi.as_view(), name="insights_account_score"),
    path(
        "insights/scorecard/<int:pk>/judgements/",
        JudgementsApi.as_view(),
        name="insights_judgements",
    ),
    path("insights/single-metric/", SingleMetricApi.as_view(), name="insights_single_metric"),
    path("insights/big-orders/", BigOrderApi.as_view(), name="insights_big_orders"),
    path("insights/key-accounts/", KeyAccountsApi.as_view(), name="insights_key_accounts"),
    path(
        "insights/key-accounts/<int:pk>/remove/",
        KeyAccountRemoveApi.as_view(),
        name="insights_key_account_remove",
    ),
    path("insights/scorecards/", ScorecardListApi.as_view(), name="insights_scorecards"),
    path(
        "insights/scorecards/<int:pk>/",
        ScorecardDetailApi.as_view(),
        name="insights_scorecard_detail",
    ),
    path(
        "insights/scorecards/<int:pk>/publish/",
        ScorecardPublishApi.as_view(),
        name="insights_scorecard_publish",
    ),
    path(
        "insights/qualitative-criteria/",
        QualitativeCriteriaApi.as_view(),
        name="insights_qualitative_criteria",
    ),
    path("insights/types/", AccountTypesApi.as_view(), name="insights_types"),
    path("insights/types/<int:pk>/", AccountTypeApi.as_view(), name="insights_type_detail"),
    path(
        "insights/types/<int:pk>/assess/",
        AccountTypeAssessApi.as_view(),
        name="insights_type_assess",
    ),
    path(
        "insights/types/assessments/<int:pk>/confirm/",
        AssessmentConfirmApi.as_view(),
        name="insights_assessment_confirm",
    ),
    path(
        "insights/service-strategies/",
        ServiceStrategiesApi.as_view(),
        name="insights_service_strategies",
    ),
    path(
        "insights/service-strategies/<str:account_type>/",
        ServiceStrategyApi.as_view(),
        name="insights_service_strategy",
    ),
    path("profitability/", PnlListApi.as_view(), name="profitability_pnl"),
    path(
        "profitability/accounts/<int:pk>/",
        AccountPnlApi.as_view(),
        name="profitability_account_pnl",
    ),
    path("profitability/whale-curve/", WhaleCurveApi.as_view(), name="profitability_whale_curve"),
    path(
        "profitability/reports/concessions/",
        ConcessionsReportApi.as_view(),
        name="profitability_report_concessions",
    ),
    path(
        "profitability/reports/over-policy/",
        OverPolicyReportApi.as_view(),
        name="profitability_report_over_policy",
    ),
    path(
        "profitability/reports/below-floor/",
        BelowFloorReportApi.as_view(),
        name="profitability_report_below_floor",
    ),
    path(
        "profitability/reports/flagged-lines/",
        FlaggedLinesReportApi.as_view(),
        name="profitability_report_flagged_lines",
    ),
    path("cost-rates/", CostRateListApi.as_view(), name="cost_rate_list"),
    path("cost-rates/<int:pk>/", CostRateDetailApi.as_view(), name="cost_rate_detail"),
    path("concession-policies/", ConcessionPolicyListApi.as_view(), name="concession_policy_list"),
    path(
        "concession-policies/thresholds/",
        ThresholdsApi.as_view(),
        name="concession_thresholds",
    ),
    path(
        "concession-policies/<int:pk>/",
        ConcessionPolicyDetailApi.as_view(),
        name="concession_policy_detail",
    ),
    path("coverage/", CoverageListApi.as_view(), name="coverage_list"),
    path("coverage/<int:pk>/", CoverageDetailApi.as_view(), name="coverage_detail"),
    path("my-week/", MyWeekApi.as_view(), name="my_week"),
    path("sponsored-accounts/", SponsoredAccountsApi.as_view(), name="sponsored_accounts"),
    path(
        "sponsored-accounts/overdue/",
        ExecutiveOverdueApi.as_view(),
        name="executive_overdue",
    ),
    path("", include(router.urls)),
]
