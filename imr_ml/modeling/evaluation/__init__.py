"""How predictions are judged: metrics, letter-bootstrap intervals, the operating threshold and
what flagging at it meant. Works on labels and probabilities only; imports no other room."""
