"""METEOR (docs/spec/meteor.md): a weak domain model guided by a strong one, then improving itself.

    config       MeteorConfig: roles, prompts, the stages, the evaluation (paper vs code choices as fields)
    records      the one record schema of every stage, and the resumable JSONL each stage appends to
    questions    question files (METEOR's JSON, JSONL with tests, the shipped MBPP+ pool), the hold-out split
    prompts      every prompt, as conversations
    roles        the models (weak, strong, judge) behind `Role`: conversations in, replies out
    parsing      the judges' structured replies (verdicts, criteria scores)
    judging      asking a judge, re-asking what could not be read
    code_checks  an answer's code against the question's tests, in the sandbox
    sft          supervised fine-tuning (TRL's SFTTrainer) into a new directory
    versions     model directories written once (`.partial`, then renamed)
    distill      stage 1: guideline by the weak model, answer by the strong one, SFT
    refine       stage 2: answer, feedback, retry; periodic fine-tuning into new versions
    beam         beam search (the high-compute answer)
    pairwise     pair batches, the hinge loss, DPO (TRL)
    self_train   stage 3: low- vs high-compute answers, preference, pair training
    evaluate     judged head-to-head evaluation: win rates, position swap, scores, pass rate
    run          all stages, then the evaluation
"""
