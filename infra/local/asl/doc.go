// Package asl runs an Amazon States Language state machine in-process, so that the local
// stack executes the very definition deployed to Step Functions, and the Step Functions
// adapter (package workflow) drives it through the same API calls.
//
// It implements the subset of the language the contact-change definition uses, and Load
// rejects anything else, so that a definition the executor would misread fails loudly:
//
//   - Top level: StartAt, States, Comment. Placeholders ${Name} are replaced as SAM's
//     DefinitionSubstitutions do.
//   - Task, with Resource arn:aws:states:::lambda:invoke (the result is
//     {"ExecutedVersion", "Payload": <function output>, "StatusCode": 200}) or
//     arn:aws:states:::lambda:invoke.waitForTaskToken (the result is the SendTaskSuccess
//     output). Parameters must be {"FunctionName": <fixed name>, "Payload": ...}.
//     TimeoutSeconds or TimeoutSecondsPath (States.Timeout), Retry, Catch.
//   - Map in INLINE mode: ItemsPath, ItemSelector (with $$.Map.Item.Index and
//     $$.Map.Item.Value), ItemProcessor, Retry, Catch. Iterations run concurrently; the
//     first one to fail fails the state with its error and stops the others.
//   - Pass (Parameters, Result), Succeed, Fail (Error, Cause).
//   - On every state: InputPath, OutputPath, ResultPath (null, $, $.field...),
//     Parameters, ItemSelector and ResultSelector with ".$" fields, Next, End, Comment.
//   - Paths: $ or $$ followed by .field, ['field'] and [index]; no wildcards, filters or
//     intrinsic functions. The context object holds Execution (Id, Name, Input,
//     StartTime), StateMachine.Id, State (Name, EnteredTime, RetryCount), Task.Token and,
//     in ItemSelector, Map.Item.
//   - Errors: States.ALL, States.TaskFailed, States.Timeout, States.Runtime,
//     States.ParameterPathFailure, States.ResultPathMatchFailure; a function's error is
//     named after its Go type, as aws-lambda-go names it.
//
// Execution-level TimeoutSeconds, heartbeats, Choice, Wait, Parallel, JSONata and
// distributed maps are not implemented.
package asl
