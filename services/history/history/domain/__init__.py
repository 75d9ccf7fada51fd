"""Pure rules of the read side: how facts about moves become stays. No I/O."""
