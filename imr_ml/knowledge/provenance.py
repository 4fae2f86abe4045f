"""Which letters the shipped knowledge was developed on, so a figure measured on them says so.

The signal patterns (`features/signals.toml`) and the choice of findings the guideline rules
look for (`features/guidelines.toml`) were written by people who had read the 111 real DWC
letters of the development sample (decided 12/2016-02/2017). No rule strength was fitted on
them, but a model measured on those letters is measured where its knowledge was tuned: the
figures are optimistic for new letters. The letters are named here only by the hash a model
manifest uses (`imr_ml.modeling.training.data.letter_hash`: sha256 of the case number, first 16 hex
digits), never by case number or text.
"""

from __future__ import annotations

from collections.abc import Iterable

DEVELOPMENT_LETTERS = frozenset({
    "04815155f563f6d9", "05f18cac1fbf2154", "083d303ab480f9dc", "096ebaf1fb069f8c", "0977caa3712c0a95",
    "0aecf2521ba6e150", "1026474f3d151c65", "143f2400ec5b904d", "16396bece28567c2", "1682f4bc023465f7",
    "19a4ffe119d73a5e", "1b25df9aa9a30f12", "1b7040feca2c50fa", "1d3db7f88fa51ebf", "1d4fe67a44cf232b",
    "21476b853257e9d0", "23073ce19eda07af", "26c92e3f581d8a41", "274da99d8ee41f09", "2b4851ea69b901c6",
    "2d14dfe0be81d0b9", "30de92bacb9b3cf0", "333ba7ef5faad44a", "388092462ffb1f35", "39759c45835be01d",
    "3ac866aa03f4da80", "3cf0ae9d50ac24a9", "40b16f242803122c", "444d1d5838cd6b26", "450ad5a5c09d9cfd",
    "45e154de5af9689d", "4841f9035416abca", "4eaf8f67c6d9796d", "5218b4eb6d48e5e8", "523e4a7df1ae4e61",
    "55115bbad311a836", "56cfa20622c1761c", "575f9499fa45d943", "64a90db52adeb2aa", "676827d487207338",
    "6781e16ec8365d27", "68a0c04ae3072d8a", "68f8efbffbe7ceaf", "69204e63e79a43f8", "6ec48066dcb6f790",
    "7146c676f145bc92", "71d0666226e05ffd", "74212d0633fe532b", "76cfa3b1e2142d73", "7751d52041e93d72",
    "7acba40706e87fa7", "7b793d182e372996", "7bef2ec5c505ac13", "7e66d93cc716b392", "7e6b5e6e5ac954d8",
    "7fd8a1aa5c46e2ea", "845cc05d1c1e2704", "847a8ab1db39ff1a", "85f01cbe0e512d1a", "872f86d19de59b98",
    "886384071e47a399", "88f9b6c9d604e5b6", "8b21a09449e69a8c", "8f0ee9ff778dfabd", "9008a1df60ef7a4e",
    "912daaf1f85246d5", "92203f218a39a27b", "941c631c29da38f8", "9bd70248e9c83fdb", "9dd1110d90a7399a",
    "a336a2c557f5edc2", "a5226e018cc3925d", "a8f92547e04cd858", "ab1936e20a4c9887", "ae0b445ab8853b15",
    "b4049e0331b2bbe4", "b88431da77bfc560", "bb3102e4d85d1f94", "be784969a40f99c1", "c00f0adf6b95192e",
    "c32ece75e52e8c65", "c417556279dcb25d", "c5176b585512a25c", "ce4fa09d2f314e5b", "cfa3f733a035a8b1",
    "cff4979d41dfa4ca", "d35bbef2659187dc", "d65dd673bf22fbd3", "d774ef7ea2c388ac", "d91024ad772f0011",
    "da1ac474dd3b68e2", "dbd497c0daf3db91", "df89d3b6ba3f1a08", "dfb2474584a5beda", "e0ad40c3b73b666e",
    "e0f493bec099e138", "e241cfec287984d8", "e588982219647b50", "e64b21eb5a260cd8", "eac382c0d60b27fd",
    "ed49134ca4b8bbd9", "f1bb6e947e78af0d", "f255a5ded71cdd57", "f2e887787d5721b2", "f475a83f78674066",
    "f595284676606e69", "f5f5f4903345c981", "f87629f5b14a7bf7", "f91db3e6992368ea", "fb142d8b50121d93",
    "fe65922d9094f918",})


def developed_on(letter_hashes: Iterable[str]) -> int:
    """How many of these letters (by `letter_hash`) are letters the knowledge was developed on.

    Parameters
    ----------
    letter_hashes : iterable of str
        Hashed letter ids, repeated or not.

    Returns
    -------
    int
        Distinct letters among `DEVELOPMENT_LETTERS`.
    """
    return len(set(letter_hashes) & DEVELOPMENT_LETTERS)
