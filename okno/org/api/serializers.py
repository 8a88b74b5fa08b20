"""Serializers of the organisation's reference data."""

from __future__ import annotations

from rest_framework import serializers

from okno.org.models import Branch, Department, GridDistrict


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "code", "name", "timezone", "region", "address", "phone"]


class GridDistrictSerializer(serializers.ModelSerializer):
    class Meta:
        model = GridDistrict
        fields = ["id", "branch", "code", "name"]


class DepartmentSerializer(serializers.ModelSerializer):
    topics = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Department
        fields = ["id", "branch", "parent", "name", "topics", "head"]
