"""Wiring of customer resolution and the product crosswalk: scorer, thresholds, unit of work, use cases."""

from __future__ import annotations

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from adapters.persistence.customer_directory import SqlaCustomerDirectory
from adapters.persistence.customer_history import SqlaCustomerHistory
from adapters.persistence.resolution_unit_of_work import SqlaResolutionUnitOfWork
from adapters.persistence.whitespace_store import SqlaWhitespaceStore
from adapters.resolution.rapidfuzz_scorer import RapidfuzzPairScorer
from application.customers import (
    CustomerDirectory,
    CustomerHistory,
    OffersNow,
    SearchCustomers,
    ShowCustomer,
    ShowCustomerTimeline,
)
from application.ports import Clock
from application.resolution.crosswalk import (
    AddProductFamily,
    AssignProductFamily,
    ConfirmProductFamily,
    ListCrosswalk,
    ListProductFamilies,
    ListProducts,
    SuggestProductFamilies,
)
from application.resolution.export import ExportCustomers
from application.resolution.ports import PairScorer, ResolutionUnitOfWork
from application.resolution.resolve import ResolveCustomers
from application.resolution.review import (
    DecideMatch,
    ListReviewQueue,
    MergeCustomers,
    PageReviewQueue,
    ReopenMatch,
    SplitCustomer,
    UndoCustomerChange,
)
from application.whitespace import ShowWhitespace, WhitespaceSource
from domain.resolution.decisions import MatchThresholds
from entrypoints.settings import Settings

__all__ = ["ResolutionProvider"]


class ResolutionProvider(Provider):
    @provide(scope=Scope.APP)
    def thresholds(self, settings: Settings) -> MatchThresholds:
        return MatchThresholds(settings.match_auto_merge, settings.match_review, settings.match_cannot_link)

    @provide(scope=Scope.APP)
    def scorer(self) -> PairScorer:
        return RapidfuzzPairScorer()

    @provide(scope=Scope.REQUEST)
    def unit_of_work(self, session: AsyncSession) -> ResolutionUnitOfWork:
        return SqlaResolutionUnitOfWork(session)

    @provide(scope=Scope.APP)
    def directory(self, engine: AsyncEngine) -> CustomerDirectory:
        return SqlaCustomerDirectory(engine)

    @provide(scope=Scope.REQUEST)
    def search_customers(self, directory: CustomerDirectory) -> SearchCustomers:
        return SearchCustomers(directory)

    @provide(scope=Scope.APP)
    def history(self, engine: AsyncEngine) -> CustomerHistory:
        return SqlaCustomerHistory(engine)

    @provide(scope=Scope.APP)
    def whitespace_source(self, engine: AsyncEngine) -> WhitespaceSource:
        return SqlaWhitespaceStore(engine)

    show_customer = provide(ShowCustomer, scope=Scope.REQUEST)
    customer_timeline = provide(ShowCustomerTimeline, scope=Scope.REQUEST)
    offers_now = provide(OffersNow, scope=Scope.REQUEST)
    whitespace = provide(ShowWhitespace, scope=Scope.REQUEST)

    @provide(scope=Scope.REQUEST)
    def resolve(
        self, uow: ResolutionUnitOfWork, scorer: PairScorer, clock: Clock, thresholds: MatchThresholds
    ) -> ResolveCustomers:
        return ResolveCustomers(uow, scorer, clock, thresholds)

    @provide(scope=Scope.REQUEST)
    def review(self, uow: ResolutionUnitOfWork, thresholds: MatchThresholds) -> ListReviewQueue:
        return ListReviewQueue(uow, thresholds)

    @provide(scope=Scope.REQUEST)
    def review_pages(self, queue: ListReviewQueue) -> PageReviewQueue:
        return PageReviewQueue(queue)

    merge = provide(MergeCustomers, scope=Scope.REQUEST)
    split = provide(SplitCustomer, scope=Scope.REQUEST)
    undo = provide(UndoCustomerChange, scope=Scope.REQUEST)
    decide = provide(DecideMatch, scope=Scope.REQUEST)
    reopen = provide(ReopenMatch, scope=Scope.REQUEST)
    export = provide(ExportCustomers, scope=Scope.REQUEST)
    suggest = provide(SuggestProductFamilies, scope=Scope.REQUEST)
    crosswalk = provide(ListCrosswalk, scope=Scope.REQUEST)
    families = provide(ListProductFamilies, scope=Scope.REQUEST)

    @provide(scope=Scope.REQUEST)
    def products(self, uow: ResolutionUnitOfWork) -> ListProducts:
        return ListProducts(uow)

    add_family = provide(AddProductFamily, scope=Scope.REQUEST)
    assign_family = provide(AssignProductFamily, scope=Scope.REQUEST)
    confirm_family = provide(ConfirmProductFamily, scope=Scope.REQUEST)
