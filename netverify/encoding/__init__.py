"""The model as Z3 terms, and Z3's answers back as plain flows.

The public face, for `invariants/` and `engine/`:
- `solver`: `make_solver(SolverLimits)`, `unknown_reason`, and `fresh_context()` (each
  encoding gets a clean Z3 context, so answers do not depend on earlier encodings);
- `cluster`: `ClusterEncoding`, one cluster's symbolic flow, its domain and `allowed`;
- `terms`: the symbolic flow's variables (`SymbolicFlow`, `SymbolicEndpoint`);
- `decode`: `decode_flow`, a Z3 model turned into a `Flow` at once;
- `groups`: the diff's endpoint groups and their terms.
The rest (`universe`, `classes`, `domain`, `policies`, `selectors`, `smtlib`, `capi`) are the
encoding's own parts. Submodules are imported by name; this package imports none of them.
"""
