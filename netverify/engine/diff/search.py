"""The search for one kind of change: the bit sets' products first, then the solver's.

Flows between existing pods of the `units` classes are answered exactly by both revisions'
bit-set verdicts (`ClassChanges`); every product's witness is replayed through the
evaluator. The solver then searches the rest, one witness at a time: each is replayed,
grouped with the other groups changed alike, and its product blocked from the search.
"""

from dataclasses import dataclass
from functools import cached_property

import z3

from netverify.encoding.classes import is_single_pod
from netverify.encoding.groups import ClassGroup, GroupKey
from netverify.encoding.solver import unknown_reason, while_pushing
from netverify.engine.bitsets import ClassVerdicts
from netverify.engine.diff.cells import CellChanges, CellProduct
from netverify.engine.diff.classes import ClassChanges, ClassProduct, always_node_local
from netverify.engine.diff.findings import Product, product_of
from netverify.engine.diff.grouping import Grouping
from netverify.engine.diff.namedports import on_excepted_ports, on_named_port
from netverify.engine.diff.symbolic import SymbolicDiff
from netverify.engine.readable import address_preferences, is_new_pod, readable_flow
from netverify.engine.replay import ReplayMismatch
from netverify.model import Flow, PodScope, PortRange
from netverify.model.diff import Change


@dataclass(frozen=True)
class Searched:
    """What one search found, and whether it went to the end."""

    products: list[Product]
    at_limit: bool = False
    """It stopped at its budget of products: more may exist."""
    unknown: str | None = None
    """The solver's reason for giving up, where it did: more may exist."""

    @property
    def complete(self) -> bool:
        return not self.at_limit and self.unknown is None


def limit_reason(limit: int, findings: int) -> str:
    """Why a listing stopped at `--max-findings`, which counts the search's flow groups (its
    products), not the findings they are merged into."""
    groups = f"{limit} flow group{'' if limit == 1 else 's'}"
    listed = f"{findings} finding{'' if findings == 1 else 's'}"
    return f"stopped at the limit of {groups} (--max-findings), listed as {listed}"


class DiffSearch:
    """The findings of each kind of change, within a budget: it exists to order the two
    sources of findings (bit sets, then solver) and to stop at the limit or a solver
    give-up, saying why."""

    def __init__(self, symbolic: SymbolicDiff) -> None:
        self.symbolic = symbolic
        self.revisions = symbolic.revisions
        self.grouping = Grouping(symbolic)

    @cached_property
    def verdicts(self) -> tuple[ClassVerdicts, ClassVerdicts]:
        """HEAD's and BASE's bit-set verdicts over the encoding's classes (BASE's namespace
        labels where BASE defines the namespace)."""
        revisions = self.revisions
        pod_groups = [pod_class.pods for pod_class in self.symbolic.encoding.classes]
        base_names = {namespace.name for namespace in revisions.base.namespaces}
        base = revisions.base.model_copy(
            update={
                "namespaces": (
                    *revisions.base.namespaces,
                    *(n for n in revisions.merged.namespaces if n.name not in base_names),
                )
            }
        )
        head = ClassVerdicts(revisions.merged, revisions.settings, pod_groups)
        return head, ClassVerdicts(base, revisions.settings, pod_groups, like=head)

    @cached_property
    def focus(self) -> int:
        """The classes of the namespaces whose policies or labels changed (a bit set)."""
        return sum(
            1 << c.index
            for c in self.symbolic.encoding.classes
            if c.namespace in self.revisions.changed_namespaces
        )

    @cached_property
    def class_changes(self) -> ClassChanges:
        """The changed flows between `units` classes, on both revisions' bit-set verdicts."""
        encoding = self.symbolic.encoding
        head, base = self.verdicts
        return ClassChanges(
            head=head,
            base=base,
            units=sum(1 << index for index in self.symbolic.units),
            single=sum(1 << c.index for c in encoding.classes if is_single_pod(c.pods)),
            focus=self.focus,
            ends=self.symbolic.class_ends,
            node_local={} if self.revisions.tiered else always_node_local(encoding.classes),
        )

    @cached_property
    def cell_changes(self) -> CellChanges | None:
        """The changed flows of the `cells` region, on both revisions' bit-set verdicts."""
        cells = self.symbolic.cells
        return None if cells is None else CellChanges(*self.verdicts, cells, self.focus)

    def changes(self, change: Change, budget: int) -> Searched:
        """At most `budget` products of one kind of change, the search complete or not, and
        why not."""
        symbolic = self.symbolic
        solver, encoding = symbolic.solver, symbolic.encoding
        now, before = symbolic.now_before(change)
        # A search of this change may have run before with a smaller budget: it starts over.
        self.grouping.reported.forget(change)
        existing_first = z3.Bool(f"diff.{change.value}.existing_first")
        early: list[tuple[list[Product], bool]] = []
        if (symbolic.units or symbolic.cells) and "verdicts" not in self.__dict__:
            # Z3 takes in the search's formulas on its first push while the bit sets compare
            # the classes and their products are replayed, none of which calls Z3.
            while_pushing(solver, lambda: early.append(self._class_products(change, budget)))
        else:
            solver.push()
        try:
            solver.add(now, z3.Not(before))
            ends = (encoding.flow.source, encoding.flow.destination)
            solver.add(z3.Implies(existing_first, z3.And([encoding.existing_pod(e) for e in ends])))
            products, at_limit = early[0] if early else self._class_products(change, budget)
            if at_limit:
                return Searched(products, at_limit=True)
            passes = [[existing_first], []] if symbolic.pods is PodScope.ANY else [[]]
            # Between pods, the address preferences are vacuous: left to readable_flow, as
            # asserting them would steer Z3 to other witnesses (another listing) for nothing.
            preferences = address_preferences(encoding) if symbolic.external_ends else []
            literals = [
                z3.Bool(f"diff.{change.value}.prefer.{index}") for index in range(len(preferences))
            ]
            solver.add(*map(z3.Implies, literals, preferences))
            for assumptions in passes:
                preferred = _Preferred(
                    solver, assumptions, list(zip(literals, preferences, strict=True))
                )
                while True:
                    outcome = preferred.check()
                    if outcome == z3.unsat:
                        break
                    if outcome == z3.unknown:
                        return Searched(products, unknown=unknown_reason(solver, symbolic.limits))
                    if len(products) >= budget:
                        return Searched(products, at_limit=True)
                    flow = readable_flow(
                        solver,
                        encoding,
                        prefer_existing=False,
                        tidy_labels=symbolic.pods is PodScope.ANY,
                        prefer_tcp=False,
                        tidy_ports=symbolic.pods is PodScope.ANY,
                        prefer_addresses=not symbolic.external_ends,
                        assumptions=[*assumptions, *preferred.kept],
                    )
                    products.append(self._product(change, flow))
            return Searched(products)
        finally:
            solver.pop()

    def _class_products(self, change: Change, budget: int) -> tuple[list[Product], bool]:
        """The bit sets' products of the change, between classes (`_class_product`), then
        between cells and classes (`_cell_product`), at most `budget`, and whether more
        exist."""
        products: list[Product] = []
        for product in self.class_changes.products(change) if self.symbolic.units else ():
            if len(products) >= budget:
                return products, True
            products.append(self._class_product(change, product))
        cells = self.cell_changes
        for cell_product in cells.products(change) if cells is not None else ():
            if len(products) >= budget:
                return products, True
            products.append(self._cell_product(change, cell_product))
        return products, False

    def _product(self, change: Change, flow: Flow) -> Product:
        """The solver's witness's product, taking in the other groups changed alike; every
        flow it covers is then blocked from the search."""
        witness = self.revisions.replayed(change, flow)
        if is_new_pod(flow.destination):
            witness = on_excepted_ports(self.revisions, on_named_port(self.revisions, witness))
        sources, destinations = self.grouping.groups(witness)
        blocked = self.symbolic.product(
            witness.protocol, witness.flow.same_node, sources, destinations
        )
        self.symbolic.solver.add(z3.Not(blocked))
        self.grouping.reported.add(witness.kind, sources, destinations, blocked)
        return product_of(self.symbolic.groups, witness, sources, destinations)

    def _class_product(self, change: Change, product: ClassProduct) -> Product:
        """A product of `class_changes`, its witness (one pod of the first source class to
        one of the first destination class) replayed through the evaluator, which must agree
        on the verdicts and the ports."""
        classes = self.symbolic.encoding.classes
        source_class = classes[product.sources[0]]
        destination_class = classes[product.destinations[0]]
        # Two pods of one class, where it has two; a workload stands for its replicas.
        destination_pod = destination_class.pods[
            1 if source_class is destination_class and len(destination_class.pods) > 1 else 0
        ]
        flow = Flow(
            source=self.revisions.endpoint(source_class.pods[0]),
            destination=self.revisions.endpoint(destination_pod),
            protocol=product.protocol,
            port=product.port,
        )
        return self._replayed_product(
            change,
            flow,
            product.ports,
            [ClassGroup(index) for index in product.sources],
            [ClassGroup(index) for index in product.destinations],
        )

    def _cell_product(self, change: Change, product: CellProduct) -> Product:
        """A product of `cell_changes`, its witness (the first cell's representative and
        a pod of the first class) replayed through the evaluator, which must agree on the
        verdicts and the ports."""
        cells = self.symbolic.cells
        assert cells is not None, "cell products come from the cells region"
        cell = cells.cells.cells[product.cells[0]]
        pod = self.revisions.endpoint(self.symbolic.encoding.classes[product.classes[0]].pods[0])
        keys: list[GroupKey] = [cells.cells.cells[index].key for index in product.cells]
        classes: list[GroupKey] = [ClassGroup(index) for index in product.classes]
        if product.outward:
            flow = Flow(
                source=pod, destination=cell.endpoint, protocol=product.protocol, port=product.port
            )
            return self._replayed_product(change, flow, product.ports, classes, keys)
        flow = Flow(
            source=cell.endpoint, destination=pod, protocol=product.protocol, port=product.port
        )
        return self._replayed_product(change, flow, product.ports, keys, classes)

    def _replayed_product(
        self,
        change: Change,
        flow: Flow,
        ports: tuple[PortRange, ...],
        sources: list[GroupKey],
        destinations: list[GroupKey],
    ) -> Product:
        """The bit sets' product of the witness `flow`, changed on `ports` by the bit-set
        verdicts, which the reference evaluator must confirm."""
        witness = self.revisions.replayed(change, flow)
        if witness.ports != ports:
            raise ReplayMismatch(
                f"the {change.value} flow {flow.model_dump_json()} changed on ports "
                f"{[r.model_dump() for r in witness.ports]} by the reference evaluator but on "
                f"{[r.model_dump() for r in ports]} by the bit-set verdicts "
                "(a soundness bug; please report it)"
            )
        return product_of(self.symbolic.groups, witness, sources, destinations)


class _Preferred:
    """One pass of the search's checks, on its assumptions and on `readable_flow`'s address
    preferences (IPv4, then 203.0.113.0/24), each with a literal that implies it: where
    the literals are assumed and the check is `sat`, `readable_flow`, given them, keeps
    those preferences without a check per preference per witness.

    The literals are assumed from the first model that misses a preference on: from the
    start, they would steer Z3 to other witnesses between pods, which they do not
    constrain. Where they make a check `unsat` (its core names some), the last of them the
    core names is dropped, as `readable_flow` drops a preference, and the check made
    again. A dropped literal stays dropped for the rest of the pass, as it would be
    unsatisfiable again: the search's assertions only grow (each witness's product is
    blocked), and a preference is dropped before the one it implies (an address of
    203.0.113.0/24 is one in IPv4). Where they make it `unknown`, all are dropped: a
    preference never costs a finding."""

    def __init__(
        self,
        solver: z3.Solver,
        assumptions: list[z3.BoolRef],
        preferred: list[tuple[z3.BoolRef, z3.BoolRef]],
    ) -> None:
        self.solver, self.assumptions, self.preferred = solver, assumptions, preferred
        self.assumed = False

    @property
    def kept(self) -> list[z3.BoolRef]:
        """The literals of the preferences the last `sat` check's model satisfies, whether
        it assumed them or not: `readable_flow` keeps those preferences."""
        return [literal for literal, _ in self.preferred]

    def check(self) -> z3.CheckSatResult:
        """Check the solver on the assumptions and, once assumed, the literals `kept`."""
        solver = self.solver
        if not self.assumed:
            outcome = solver.check(*self.assumptions)
            if outcome != z3.sat or not self.preferred:
                return outcome
            model = solver.model()
            if all(z3.is_true(model.eval(p, model_completion=True)) for _, p in self.preferred):
                return outcome
            self.assumed = True
        while self.preferred:
            outcome = solver.check(*self.assumptions, *self.kept)
            if outcome == z3.sat:
                return outcome
            if outcome == z3.unknown:
                break
            core = solver.unsat_core()
            named = [pair for pair in self.preferred if any(pair[0].eq(c) for c in core)]
            if not named:
                return outcome
            self.preferred.remove(named[-1])
        self.preferred.clear()
        return solver.check(*self.assumptions)
