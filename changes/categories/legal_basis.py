"""``legal-basis``: a purpose's GDPR legal basis changed (changes/classify.py finds it with
changes/legalbasis.py, changes/prose_bases.py and changes/claims.py)."""

from changes.categories import Category, register

LEGAL_BASIS = register(
    Category(
        "legal-basis",
        "The page changed the legal basis it gives for a purpose (consent, legitimate "
        "interests, contract...): the basis decides which rights a person has, such as the "
        "right to object.",
        order=10,
    )
)
