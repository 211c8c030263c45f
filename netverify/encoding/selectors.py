"""Label selectors and address blocks as Z3 terms over an endpoint's variables."""

import z3

from netverify.encoding.capi import at_least, at_most, conj, disj, equals, negate
from netverify.encoding.universe import ABSENT, LabelUniverse, network_interval
from netverify.model import IPBlock, IPNetwork, LabelRequirement, LabelSelector, Operator


def _requirement_term(
    requirement: LabelRequirement, labels: dict[str, z3.ArithRef], universe: LabelUniverse
) -> z3.BoolRef:
    label = labels[requirement.key]
    value_terms = [
        equals(label, universe.code(requirement.key, value)) for value in requirement.values
    ]
    match requirement.operator:
        case Operator.IN:
            return disj(value_terms)
        case Operator.NOT_IN:
            # NOTE: ABSENT differs from every value code, so objects without the key match.
            return negate(disj(value_terms))
        case Operator.EXISTS:
            return negate(equals(label, ABSENT))
        case Operator.DOES_NOT_EXIST:
            return equals(label, ABSENT)


def selector_term(
    selector: LabelSelector, labels: dict[str, z3.ArithRef], universe: LabelUniverse
) -> z3.BoolRef:
    """True when the labels match every part of the selector (the empty selector: always)."""
    terms = [
        equals(labels[key], universe.code(key, value))
        for key, value in selector.match_labels.items()
    ]
    terms += [
        _requirement_term(requirement, labels, universe)
        for requirement in selector.match_expressions
    ]
    return conj(terms)


def in_network(ip: z3.ArithRef, network: IPNetwork) -> z3.BoolRef:
    low, high = network_interval(network)
    return conj([at_least(ip, low), at_most(ip, high)])


def in_ip_block(ip: z3.ArithRef, block: IPBlock) -> z3.BoolRef:
    """In the block's CIDR and in none of its exceptions."""
    return conj(
        [
            in_network(ip, block.cidr),
            *[negate(in_network(ip, excepted)) for excepted in block.excepts],
        ]
    )
