import { Body, Controller, Delete, Get, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { CreateTemplateDto, DeletedTemplateDto, ListTemplatesQueryDto, TemplateDto, TemplatesService, UpdateTemplateDto } from '@app/templates';

@ApiTags('templates')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Get()
  @ApiOperation({ summary: "The built-in templates, then the caller's own" })
  @ApiResponse({ status: 200, type: [TemplateDto] })
  list(@CurrentUser() user: AuthUser, @Query() query: ListTemplatesQueryDto): Promise<TemplateDto[]> {
    return this.templates.list(user.id, query.contentType);
  }

  @Get(':id')
  @ApiResponse({ status: 200, type: TemplateDto })
  @ApiResponse({ status: 404, description: 'Neither a built-in template nor one of the caller' })
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<TemplateDto> {
    return this.templates.get(user.id, id);
  }

  @Post()
  @ApiResponse({ status: 201, type: TemplateDto })
  @ApiResponse({ status: 400, description: 'A bad field, a placeholder that is not a declared variable (prompt), an unused or duplicate variable' })
  @ApiResponse({ status: 409, description: 'The caller already has the most templates allowed' })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateTemplateDto): Promise<TemplateDto> {
    return this.templates.create(user.id, body);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Change any of name, contentType, prompt and variables of one of your templates' })
  @ApiResponse({ status: 200, type: TemplateDto })
  @ApiResponse({ status: 403, description: 'Built-in templates are read-only' })
  @ApiResponse({ status: 404, description: 'Not one of the caller templates' })
  update(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: UpdateTemplateDto): Promise<TemplateDto> {
    return this.templates.update(user.id, id, body);
  }

  @Delete(':id')
  @ApiResponse({ status: 200, type: DeletedTemplateDto })
  @ApiResponse({ status: 403, description: 'Built-in templates are read-only' })
  @ApiResponse({ status: 404, description: 'Not one of the caller templates' })
  remove(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<DeletedTemplateDto> {
    return this.templates.remove(user.id, id);
  }
}
