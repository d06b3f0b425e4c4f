package stepfunctions

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

func (h *Handler) startExecution(ctx context.Context, body []byte) (any, error) {
	var in startExecutionRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.api.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: in.StateMachineArn, Name: in.Name, Input: in.Input})
	if err != nil {
		return nil, err
	}
	return startExecutionResponse{ExecutionArn: aws.ToString(out.ExecutionArn), StartDate: epochSeconds(aws.ToTime(out.StartDate))}, nil
}

func (h *Handler) sendTaskSuccess(ctx context.Context, body []byte) (any, error) {
	var in sendTaskSuccessRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if _, err := h.api.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: in.TaskToken, Output: in.Output}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) sendTaskFailure(ctx context.Context, body []byte) (any, error) {
	var in sendTaskFailureRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if _, err := h.api.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: in.TaskToken, Error: in.Error, Cause: in.Cause}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) stopExecution(ctx context.Context, body []byte) (any, error) {
	var in stopExecutionRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.api.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: in.ExecutionArn, Error: in.Error, Cause: in.Cause})
	if err != nil {
		return nil, err
	}
	return stopExecutionResponse{StopDate: epochSeconds(aws.ToTime(out.StopDate))}, nil
}

func (h *Handler) describeExecution(ctx context.Context, body []byte) (any, error) {
	var in describeExecutionRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.api.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: in.ExecutionArn})
	if err != nil {
		return nil, err
	}
	resp := describeExecutionResponse{
		ExecutionArn:    aws.ToString(out.ExecutionArn),
		StateMachineArn: aws.ToString(out.StateMachineArn),
		Name:            aws.ToString(out.Name),
		Status:          string(out.Status),
		StartDate:       epochSeconds(aws.ToTime(out.StartDate)),
		StopDate:        epochOf(out.StopDate),
		Input:           out.Input,
		Output:          out.Output,
		Error:           out.Error,
		Cause:           out.Cause,
	}
	if out.Input != nil {
		resp.InputDetails = &dataDetails{Included: true}
	}
	if out.Output != nil {
		resp.OutputDetails = &dataDetails{Included: true}
	}
	return resp, nil
}
